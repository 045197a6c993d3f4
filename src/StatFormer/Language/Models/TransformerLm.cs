using StatFormer.Attention;
using StatFormer.Moe;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch.nn;
using static TorchSharp.torch;

namespace StatFormer.Language.Models;

/// <summary>
/// A decoder-only Transformer language model in the nanoGPT mould: token + learned position embeddings,
/// pre-LN blocks with causal self-attention (softmax or elliptical) and dense or Mixture-of-Experts
/// feed-forward layers (Switch or GLaM layout; SMoE, XMoE or AC routers), a final LayerNorm and an
/// output layer tied to the token embedding. Maps int64 ids [B,T] to logits [B,T,V].
/// </summary>
public sealed class TransformerLm : Module<Tensor, Tensor>, IAuxiliaryLossModel
{
    private readonly Embedding tokenEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly Dropout embeddingDropout;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm finalNorm;

    public TransformerLm(LmConfig config, string name = "transformer_lm") : base(name)
    {
        config.Validate();
        Config = config;
        var stack = config.Stack;
        tokenEmbedding = Embedding(config.VocabSize, stack.DModel);
        positionEmbedding = Embedding(config.SeqLen, stack.DModel);
        embeddingDropout = Dropout(stack.Dropout);
        var elliptical = stack.EffectiveEllipticalLayers.ToHashSet();
        var moeKinds = stack.MoeLayers.Zip(stack.MoeLayerKinds).ToDictionary(x => x.First, x => x.Second);
        var moeOptions = stack.Moe.Router == MoeKind.None ? null : stack.EffectiveMoeOptions;
        blocks = new ModuleList<TransformerBlock>();
        for (var layer = 0; layer < stack.Layers; layer++)
        {
            SelfAttention attention = elliptical.Contains(layer)
                ? new EllipticalSelfAttention(stack.DModel, stack.Heads, stack.Dropout, causal: true, stack.EstimatorFor(causal: true), stack.EllipticalUnscaled)
                : new SoftmaxSelfAttention(stack.DModel, stack.Heads, stack.Dropout, causal: true);
            blocks.Add(moeKinds.TryGetValue(layer, out var kind)
                ? new TransformerBlock(stack.DModel, attention, new MoeFeedForward(stack.DModel, kind, moeOptions!, causal: true), stack.Dropout, $"block{layer}")
                : new TransformerBlock(stack.DModel, attention, new FeedForward(stack.DModel, stack.FfnMultiplier * stack.DModel, stack.Dropout), stack.Dropout, $"block{layer}"));
        }
        finalNorm = LayerNorm(stack.DModel);
        RegisterComponents();
        InitialiseWeights();
    }

    public LmConfig Config { get; }

    public IReadOnlyList<TransformerBlock> Blocks => blocks.ToList();

    /// <summary>Number of trainable parameters (the tied output layer counted once).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    public override Tensor forward(Tensor ids) => Forward(ids, hiddenStates: null);

    /// <summary>
    /// The forward pass; when <paramref name="hiddenStates"/> is given, each block's output [B,T,C]
    /// (detached) is appended to it, for representation-collapse diagnostics; when
    /// <paramref name="routing"/> is given, each MoE layer's routing (detached), for routing diagnostics.
    /// </summary>
    public Tensor Forward(Tensor ids, List<Tensor>? hiddenStates, List<MoeLayerRouting>? routing = null)
    {
        using var scope = torch.NewDisposeScope();
        return Run(ids, hiddenStates, routing, withAuxiliaryLoss: false).Logits.MoveToOuterDisposeScope();
    }

    /// <summary>Logits and the load-balancing loss: <see cref="MoeLayout.BalanceWeight"/> × the sum over MoE layers (null for a dense model).</summary>
    public (Tensor Logits, Tensor? AuxiliaryLoss) ForwardWithAuxiliaryLoss(Tensor ids)
    {
        using var scope = torch.NewDisposeScope();
        var (logits, aux) = Run(ids, null, null, withAuxiliaryLoss: true);
        return (logits.MoveToOuterDisposeScope(), aux?.MoveToOuterDisposeScope());
    }

    private (Tensor Logits, Tensor? AuxiliaryLoss) Run(Tensor ids, List<Tensor>? hiddenStates, List<MoeLayerRouting>? routing, bool withAuxiliaryLoss)
    {
        var t = ids.shape[1];
        if (t > Config.SeqLen)
            throw new ArgumentException($"input has {t} positions but the model's context (SeqLen) is {Config.SeqLen}");
        var positions = torch.arange(t, dtype: ScalarType.Int64, device: ids.device);
        var x = embeddingDropout.forward(tokenEmbedding.forward(ids) + positionEmbedding.forward(positions));
        Tensor? values = null;
        RoutingState? lastRouting = null;
        Tensor? balance = null;
        foreach (var block in blocks)
        {
            var output = block.forward(x, values, previousRouting: lastRouting);
            (x, values) = (output.Output, output.Values);
            if (output.Moe is { } moe)
            {
                // Dense blocks between MoE layers (GLaM) pass the last MoE routing through unchanged.
                lastRouting = moe.Routing;
                if (withAuxiliaryLoss) balance = balance is null ? moe.BalanceLoss : balance + moe.BalanceLoss;
                routing?.Add(new MoeLayerRouting(moe.Routing.TopIndices.detach().MoveToOuterDisposeScope(),
                    moe.RouterLogits.detach().MoveToOuterDisposeScope(), moe.RoutingFeatures.detach().MoveToOuterDisposeScope()));
            }
            if (hiddenStates is not null) hiddenStates.Add(x.detach().MoveToOuterDisposeScope());
        }
        var logits = finalNorm.forward(x).matmul(tokenEmbedding.weight!.t());
        return (logits, balance is null ? null : balance * Config.Stack.Moe.BalanceWeight);
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
        var moeParameters = blocks.Where(b => b.MixtureOfExperts is not null)
            .SelectMany(b => b.MixtureOfExperts!.parameters()).Select(p => p.Handle).ToHashSet();
        foreach (var (paramName, p) in named_parameters())
        {
            if (moeParameters.Contains(p.Handle)) continue;
            if (paramName.EndsWith("bias")) nn.init.zeros_(p);
            else if (p.dim() >= 2) nn.init.normal_(p, 0.0, std);
        }
        foreach (var block in blocks)
        {
            nn.init.normal_(block.Attention.OutputProjection.weight!, 0.0, residualStd);
            if (block.MixtureOfExperts is { } moe) moe.InitialiseLikeDense(std, residualStd);
            else nn.init.normal_(block.FeedForward!.OutputProjection.weight!, 0.0, residualStd);
        }
    }
}
