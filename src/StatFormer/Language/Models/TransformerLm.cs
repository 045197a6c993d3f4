using StatFormer.Moe;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Language.Models;

/// <summary>
/// A decoder-only Transformer language model in the nanoGPT mould: token + learned position embeddings,
/// a causal <see cref="TransformerStack"/> (softmax or elliptical attention; dense or Mixture-of-Experts
/// feed-forward layers), a final LayerNorm and an output layer tied to the token embedding. Maps int64
/// ids [B,T] to logits [B,T,V] (<see cref="forward"/>); <see cref="Run"/> also returns the balance loss
/// and, on request, each layer's intermediates.
/// </summary>
public sealed class TransformerLm : Module<Tensor, Tensor>, IAuxiliaryLossModel
{
    private readonly Embedding tokenEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly Dropout embeddingDropout;
    // The field name is the parameter-name prefix in checkpoints (blocks.0.attn.…), as when the blocks were a ModuleList here.
    private readonly TransformerStack blocks;
    private readonly LayerNorm finalNorm;

    public TransformerLm(LmConfig config, string name = "transformer_lm") : base(name)
    {
        config.Validate();
        Config = config;
        tokenEmbedding = Embedding(config.VocabSize, config.Stack.DModel);
        positionEmbedding = Embedding(config.SeqLen, config.Stack.DModel);
        embeddingDropout = Dropout(config.Stack.Dropout);
        blocks = new TransformerStack(config.Stack, causal: true);
        finalNorm = LayerNorm(config.Stack.DModel);
        RegisterComponents();
        InitialiseWeights();
    }

    public LmConfig Config { get; }

    public TransformerStack Stack => blocks;

    /// <summary>Number of trainable parameters (the tied output layer counted once).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Logits [B,T,V] of ids [B,T].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = torch.NewDisposeScope();
        return Run(ids).Logits.MoveToOuterDisposeScope();
    }

    /// <summary>The forward pass with everything it computes: logits, the weighted balance loss and, when <paramref name="recordIntermediates"/>, each layer's intermediates (detached).</summary>
    public LmOutput Run(Tensor ids, bool recordIntermediates = false)
    {
        var t = ids.shape[1];
        if (t > Config.SeqLen)
            throw new ArgumentException($"input has {t} positions but the model's context (SeqLen) is {Config.SeqLen}");
        using var scope = torch.NewDisposeScope();
        var positions = torch.arange(t, dtype: ScalarType.Int64, device: ids.device);
        var x = embeddingDropout.forward(tokenEmbedding.forward(ids) + positionEmbedding.forward(positions));   // [B,T,C]
        var stack = blocks.forward(x, null, recordIntermediates);
        var logits = finalNorm.forward(stack.Output).matmul(tokenEmbedding.weight!.t());                     // [B,T,V]
        return new LmOutput(logits, stack.AuxiliaryLoss, stack.Layers).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// An empty cache for decoding <paramref name="batch"/> sequences with <see cref="Step"/>, up to the context
    /// (SeqLen) positions. With an MoE capacity limit, decoding applies the per-sequence capacity of a window of
    /// <paramref name="capacityLength"/> tokens (default SeqLen, the training and evaluation window), i.e. what a full
    /// forward over that many tokens decides. The caller disposes the cache.
    /// </summary>
    /// <exception cref="NotSupportedException">The model uses the elliptical sequence estimator or the AC batch estimator (neither is causal).</exception>
    public KeyValueCache NewCache(int batch, int? capacityLength = null)
    {
        // The scope frees the handle the weight getter may create; the cache's tensors are detached from it.
        using var scope = torch.NewDisposeScope();
        var weight = tokenEmbedding.weight!;
        return blocks.NewCache(batch, Config.SeqLen, capacityLength ?? Config.SeqLen, weight.device, weight.dtype);
    }

    /// <summary>
    /// Incremental decoding, in evaluation mode only (call <c>eval()</c>; dropout off): feeds the next tokens of each
    /// sequence, [B] (one position) or [B,n] (n positions, e.g. a whole prompt into an empty cache), at positions
    /// cache.Length … cache.Length+n−1, and returns their logits [B,V] or [B,n,V]. Guarantee: the logits at position t
    /// equal <see cref="forward"/>'s at t over the same tokens 0 … t (to float rounding, ~1e-6), for every causal
    /// variant (softmax, elliptical with the causal estimator, dense or MoE with any router, Switch or GLaM layout, with
    /// or without capacity — capacity as for a window of the cache's CapacityLength tokens), however the tokens are
    /// split into calls. Runs without gradient.
    /// </summary>
    /// <exception cref="ArgumentException">A position would pass the context (SeqLen): truncate the prompt or start a new cache; or the batch differs from the cache's.</exception>
    public Tensor Step(KeyValueCache cache, Tensor nextTokens)
    {
        if (nextTokens.dim() is not (1 or 2)) throw new ArgumentException($"nextTokens must be [B] or [B,n] (got [{string.Join(",", nextTokens.shape)}])", nameof(nextTokens));
        var single = nextTokens.dim() == 1;
        var n = single ? 1 : nextTokens.shape[1];
        if (cache.Length + n > Config.SeqLen)
            throw new ArgumentException($"positions {cache.Length}..{cache.Length + n - 1} are beyond the model's context (SeqLen {Config.SeqLen})", nameof(nextTokens));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = single ? nextTokens.unsqueeze(1) : nextTokens;                                            // [B,n]
        var positions = torch.arange(cache.Length, cache.Length + n, dtype: ScalarType.Int64, device: ids.device);
        var x = tokenEmbedding.forward(ids) + positionEmbedding.forward(positions);                         // [B,n,C] (eval: no dropout)
        var h = blocks.Step(x, cache);
        var logits = finalNorm.forward(h).matmul(tokenEmbedding.weight!.t());                                // [B,n,V]
        return (single ? logits.squeeze(1) : logits).MoveToOuterDisposeScope();
    }

    (Tensor Logits, Tensor? AuxiliaryLoss) IAuxiliaryLossModel.Run(Tensor inputs)
    {
        using var scope = torch.NewDisposeScope();
        var output = Run(inputs);
        return (output.Logits.MoveToOuterDisposeScope(), output.AuxiliaryLoss?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// GPT-2 initialisation: N(0, 0.02) weights and zero biases, residual projections scaled by 1/√(2L) so the
    /// residual stream's variance does not grow with depth. MoE layers get the same through
    /// <see cref="MoeFeedForward.InitialiseLikeDense"/> (a name-based rule would miss the stacked expert biases
    /// and overwrite XMoE's orthogonal expert embeddings).
    /// </summary>
    private void InitialiseWeights()
    {
        const double std = 0.02;
        var residualStd = std / Math.Sqrt(2.0 * Config.Stack.Layers);
        using var noGrad = torch.no_grad();
        var moeParameters = blocks.Blocks.Where(b => b.MixtureOfExperts is not null)
            .SelectMany(b => b.MixtureOfExperts!.parameters()).Select(p => p.Handle).ToHashSet();
        foreach (var (paramName, p) in named_parameters())
        {
            if (moeParameters.Contains(p.Handle)) continue;
            if (paramName.EndsWith("bias")) nn.init.zeros_(p);
            else if (p.dim() >= 2) nn.init.normal_(p, 0.0, std);
        }
        foreach (var block in blocks.Blocks)
        {
            nn.init.normal_(block.Attention.OutputProjection.weight!, 0.0, residualStd);
            if (block.MixtureOfExperts is { } moe) moe.InitialiseLikeDense(std, residualStd);
            else nn.init.normal_(block.FeedForward!.OutputProjection.weight!, 0.0, residualStd);
        }
    }
}

/// <summary>What <see cref="TransformerLm.Run"/> returns.</summary>
/// <param name="Logits">[B,T,V].</param>
/// <param name="AuxiliaryLoss">The weighted load-balancing loss (with gradient); null for a dense model.</param>
/// <param name="Layers">Per layer hidden state, values, metric and routing (detached) when requested, otherwise null.</param>
public sealed record LmOutput(Tensor Logits, Tensor? AuxiliaryLoss, IReadOnlyList<TransformerLayerIntermediates>? Layers)
{
    public LmOutput MoveToOuterDisposeScope() => new(Logits.MoveToOuterDisposeScope(), AuxiliaryLoss?.MoveToOuterDisposeScope(),
        Layers?.Select(l => l.MoveToOuterDisposeScope()).ToArray());
}
