using System.Globalization;
using StatFormer.Attention;
using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Transformer;

/// <summary>
/// The blocks of a Transformer and what flows between them, shared by every model that has one (the
/// language model, later encoders such as ViT): pre-LN blocks with softmax or elliptical self-attention
/// and dense or Mixture-of-Experts feed-forward layers (Switch or GLaM layout). Each block gets the
/// previous block's attention values (the elliptical estimator needs them) and the routing of the most
/// recent MoE layer (the AC router clusters on it; dense blocks between MoE layers pass it through).
/// Causal (language models) or not (encoders, with an optional key padding mask); in the spirit of
/// x-transformers' <c>AttentionLayers</c>, which its wrappers add embeddings and heads to.
/// <c>forward(x [B,N,C], keyPaddingMask [B,N]? (true = padding), recordIntermediates)</c>.
/// </summary>
/// <remarks>
/// The blocks are registered by index, as a ModuleList would be, so their parameters are named
/// <c>&lt;layer&gt;.attn.…</c> under this module. The padding mask acts on attention and the elliptical
/// estimator; MoE layers route padded tokens like any other (they count in expert capacity, the balance
/// loss and the AC batch statistics), so an encoder with padding should use no capacity limit.
/// </remarks>
public sealed class TransformerStack : Module<Tensor, Tensor?, bool, TransformerStackOutput>
{
    private readonly TransformerBlock[] layers;

    /// <param name="causal">True: each position attends only to itself and earlier ones, the elliptical metric defaults to the prefix mean, and MoE capacity is decided per sequence in order.</param>
    public TransformerStack(TransformerStackOptions options, bool causal, string name = "transformer_stack") : base(name)
    {
        options.Validate();
        if (causal && MoeKindNames.IsSoft(options.Moe.Router))
            throw new ArgumentException($"{StatFormer.Options.EnumNames.Cli(options.Moe.Router)} is for image models only: Soft MoE mixes every token of a sequence into every slot, so it cannot be causal", nameof(options));
        Options = options;
        Causal = causal;
        var elliptical = options.EffectiveEllipticalLayers.ToHashSet();
        var moeKinds = options.MoeLayers.Zip(options.MoeLayerKinds).ToDictionary(x => x.First, x => x.Second);
        var moeOptions = options.Moe.Router == MoeKind.None ? null : options.EffectiveMoeOptions;
        var estimator = options.EstimatorFor(causal);
        layers = new TransformerBlock[options.Layers];
        for (var layer = 0; layer < options.Layers; layer++)
        {
            // Attention, then the feed-forward layer, then the block: the order in which they draw their initial weights.
            SelfAttention attention = elliptical.Contains(layer)
                ? new EllipticalSelfAttention(options.DModel, options.Heads, options.Dropout, causal, estimator, options.EllipticalUnscaled)
                : new SoftmaxSelfAttention(options.DModel, options.Heads, options.Dropout, causal);
            var (blockName, dropPath) = ($"block{layer}", options.DropPathAt(layer));
            if (!moeKinds.TryGetValue(layer, out var kind))
                layers[layer] = new TransformerBlock(options.DModel, attention, new FeedForward(options.DModel, options.FfnMultiplier * options.DModel, options.Dropout, activation: options.Activation), options.Dropout, blockName, dropPath);
            else if (MoeKindNames.IsSoft(kind))
                layers[layer] = new TransformerBlock(options.DModel, attention, new SoftMoeFeedForward(options.DModel, kind, moeOptions!), options.Dropout, blockName, dropPath);
            else
                layers[layer] = new TransformerBlock(options.DModel, attention, new MoeFeedForward(options.DModel, kind, moeOptions!, causal), options.Dropout, blockName, dropPath);
            register_module(layer.ToString(CultureInfo.InvariantCulture), layers[layer]);
        }
        RegisterComponents();
    }

    public TransformerStackOptions Options { get; }
    public bool Causal { get; }
    public IReadOnlyList<TransformerBlock> Blocks => layers;

    /// <param name="recordIntermediates">True: the output carries each layer's hidden state, values, metric and routing (detached).</param>
    public override TransformerStackOutput forward(Tensor x, Tensor? keyPaddingMask, bool recordIntermediates)
    {
        using var scope = torch.NewDisposeScope();
        Tensor? values = null;
        RoutingState? lastRouting = null;
        Tensor? balance = null;
        var records = recordIntermediates ? new List<TransformerLayerIntermediates>(layers.Length) : null;
        foreach (var block in layers)
        {
            var output = block.forward(x, values, keyPaddingMask, lastRouting);
            (x, values) = (output.Output, output.Values);                              // [B,N,C], [B,H,N,D]
            MoeLayerRouting? routing = null;
            if (output.Moe is { } moe)
            {
                // Dense blocks between MoE layers (GLaM) pass the last MoE routing through unchanged.
                lastRouting = moe.Routing;
                balance = balance is null ? moe.BalanceLoss : balance + moe.BalanceLoss;
                // A Soft MoE layer hands on its top slots' experts; its diagnostics count the top slot's expert per token.
                var top = block.SoftMixtureOfExperts is null ? moe.Routing.TopIndices : moe.Routing.TopIndices.narrow(1, 0, 1);
                if (records is not null)
                    routing = new MoeLayerRouting(top.detach(), moe.RouterLogits.detach(), moe.RoutingFeatures.detach());
            }
            records?.Add(new TransformerLayerIntermediates(x.detach(), output.Values, output.Metric, routing));
        }
        var auxiliary = balance is null ? null : balance * Options.Moe.BalanceWeight;
        return new TransformerStackOutput(x, auxiliary, records).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// An empty decoding cache for <paramref name="batch"/> sequences of up to <paramref name="maxLength"/> positions
    /// (see <see cref="Step"/>). <paramref name="capacityLength"/>: the window length whose per-sequence MoE capacity
    /// decoding applies, as a full forward over a window of that many tokens would (default <paramref name="maxLength"/>).
    /// </summary>
    /// <exception cref="NotSupportedException">The stack is not causal, an elliptical layer uses the sequence estimator
    /// or an AC layer the batch estimator: their outputs at a position depend on later tokens, so no cache can reproduce them.</exception>
    public KeyValueCache NewCache(int batch, int maxLength, int? capacityLength = null, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (batch < 1) throw new ArgumentException($"the batch must hold at least one sequence (got {batch})", nameof(batch));
        if (maxLength < 1) throw new ArgumentException($"maxLength must be at least 1 (got {maxLength})", nameof(maxLength));
        var window = capacityLength ?? maxLength;
        if (window < 1) throw new ArgumentException($"capacityLength must be at least 1 (got {window})", nameof(capacityLength));
        if (!Causal) throw new NotSupportedException("only a causal stack can decode with a cache");
        foreach (var block in layers)
        {
            if (block.Attention is EllipticalSelfAttention { Estimator: not EllipticalEstimator.Causal })
                throw new NotSupportedException("cached decoding needs the causal elliptical estimator: with the sequence estimator (--estimator sequence) every position's m depends on later tokens");
            if (block.MixtureOfExperts?.Router is AdaptiveClusteringRouter { Estimator: AcEstimator.Batch })
                throw new NotSupportedException("cached decoding needs the running AC estimator: with the batch estimator (--ac-estimator batch) a token's routing depends on every token of its batch");
        }
        var firstMoe = layers.Select(b => b.MixtureOfExperts).FirstOrDefault(m => m is not null);
        long? capacity = firstMoe is { Options.CapacityFactor: > 0 } ? firstMoe.CapacityFor(window) : null;
        var (heads, headDim) = (Options.Heads, Options.DModel / Options.Heads);
        var caches = new LayerCache[layers.Length];
        for (var i = 0; i < layers.Length; i++)
        {
            var block = layers[i];
            var keys = torch.zeros(new long[] { batch, heads, maxLength, headDim }, dtype: dtype, device: device).DetachFromDisposeScope();
            var values = torch.zeros(new long[] { batch, heads, maxLength, headDim }, dtype: dtype, device: device).DetachFromDisposeScope();
            var sums = block.Attention is EllipticalSelfAttention
                ? torch.zeros(new long[] { batch, heads, 1, headDim }, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope()
                : null;
            var counts = block.MixtureOfExperts is { Options.CapacityFactor: > 0 } moe
                ? torch.zeros(new long[] { batch, moe.Options.Experts }, dtype: ScalarType.Int64, device: device).DetachFromDisposeScope()
                : null;
            caches[i] = new LayerCache(keys, values, sums, counts);
        }
        return new KeyValueCache(caches, batch, maxLength, window, capacity);
    }

    /// <summary>
    /// Incremental decoding (evaluation mode only: dropout off, AC statistics frozen): the stack at the next n
    /// positions of x [B,n,C] (n ≥ 1; n &gt; 1 prefills a prompt in one pass), given the earlier positions' state in
    /// <paramref name="cache"/>, which then holds these positions too. Returns [B,n,C], equal (to float rounding) to
    /// <see cref="forward"/> over the whole prefix at those positions: attention sees the cached keys and values; an
    /// elliptical layer continues its prefix sums of |V^ℓ − V^(ℓ−1)| from the cache with the previous layer's values of
    /// the new positions; an MoE layer with capacity continues each sequence's per-expert counts; an AC layer routes with
    /// its frozen running statistics and the previous MoE layer's routing of the same tokens, handed on as in forward.
    /// </summary>
    /// <exception cref="ArgumentException">The batch differs from the cache's, or the positions would pass its MaxLength.</exception>
    /// <exception cref="InvalidOperationException">The stack is in training mode.</exception>
    public Tensor Step(Tensor x, KeyValueCache cache)
    {
        if (training) throw new InvalidOperationException("cached decoding runs in evaluation mode only (call eval()): dropout and the AC statistics updates of training mode have no cached equivalent");
        if (x.dim() != 3 || x.shape[0] != cache.Batch || x.shape[2] != Options.DModel)
            throw new ArgumentException($"Step needs x [B={cache.Batch},n,C={Options.DModel}] (got [{string.Join(",", x.shape)}])", nameof(x));
        if (cache.Layers.Count != layers.Length) throw new ArgumentException($"the cache has {cache.Layers.Count} layers, the stack {layers.Length}", nameof(cache));
        var n = (int)x.shape[1];
        if (n < 1 || cache.Length + n > cache.MaxLength)
            throw new ArgumentException($"positions {cache.Length}..{cache.Length + n - 1} are beyond the cache's {cache.MaxLength} positions (the model's context)", nameof(x));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor? values = null;
        RoutingState? lastRouting = null;
        for (var i = 0; i < layers.Length; i++)
        {
            var output = layers[i].Step(x, values, lastRouting, cache.Layers[i], cache.Length, cache.ExpertCapacity);
            (x, values) = (output.Output, output.Values);                              // [B,n,C], [B,H,n,D]
            if (output.Moe is { } moe) lastRouting = moe.Routing;                      // GLaM: dense blocks pass it through
        }
        cache.Advance(n);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>What a <see cref="TransformerStack"/> returns.</summary>
/// <param name="Output">[B,N,C] the last block's residual stream (before any final norm).</param>
/// <param name="AuxiliaryLoss">The load-balancing loss, <see cref="MoeLayout.BalanceWeight"/> × the sum over MoE layers (a scalar with gradient); null without MoE layers.</param>
/// <param name="Layers">One entry per layer when intermediates were requested, otherwise null.</param>
public sealed record TransformerStackOutput(Tensor Output, Tensor? AuxiliaryLoss, IReadOnlyList<TransformerLayerIntermediates>? Layers)
{
    /// <summary>Moves every tensor to the enclosing dispose scope (for callers that return the output from their own scope).</summary>
    public TransformerStackOutput MoveToOuterDisposeScope() => new(Output.MoveToOuterDisposeScope(), AuxiliaryLoss?.MoveToOuterDisposeScope(),
        Layers?.Select(l => l.MoveToOuterDisposeScope()).ToArray());
}

/// <summary>One layer's intermediates, all detached.</summary>
/// <param name="Hidden">[B,N,C] the block's output (for representation-collapse diagnostics).</param>
/// <param name="Values">[B,H,N,D] its attention values.</param>
/// <param name="Metric">The elliptical metric m it applied ([B,H,1,D] or [B,H,N,D]); null for softmax layers.</param>
/// <param name="Routing">Its MoE routing; null in dense blocks.</param>
public sealed record TransformerLayerIntermediates(Tensor Hidden, Tensor Values, Tensor? Metric, MoeLayerRouting? Routing)
{
    public TransformerLayerIntermediates MoveToOuterDisposeScope() => new(Hidden.MoveToOuterDisposeScope(), Values.MoveToOuterDisposeScope(),
        Metric?.MoveToOuterDisposeScope(), Routing is { } r
            ? new MoeLayerRouting(r.TopIndices.MoveToOuterDisposeScope(), r.RouterLogits.MoveToOuterDisposeScope(), r.RoutingFeatures.MoveToOuterDisposeScope())
            : null);
}
