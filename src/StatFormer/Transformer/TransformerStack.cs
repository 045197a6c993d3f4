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
            layers[layer] = moeKinds.TryGetValue(layer, out var kind)
                ? new TransformerBlock(options.DModel, attention, new MoeFeedForward(options.DModel, kind, moeOptions!, causal), options.Dropout, $"block{layer}")
                : new TransformerBlock(options.DModel, attention, new FeedForward(options.DModel, options.FfnMultiplier * options.DModel, options.Dropout), options.Dropout, $"block{layer}");
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
                if (records is not null)
                    routing = new MoeLayerRouting(moe.Routing.TopIndices.detach(), moe.RouterLogits.detach(), moe.RoutingFeatures.detach());
            }
            records?.Add(new TransformerLayerIntermediates(x.detach(), output.Values, output.Metric, routing));
        }
        var auxiliary = balance is null ? null : balance * Options.Moe.BalanceWeight;
        return new TransformerStackOutput(x, auxiliary, records).MoveToOuterDisposeScope();
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
