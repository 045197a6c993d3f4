using StatFormer.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Moe;

/// <summary>
/// A Soft MoE feed-forward sublayer (Puigcerver et al. 2023, "From Sparse to Soft Mixtures of Experts"). Per image (a
/// sequence of M tokens) and for S = E·p slots (p = <see cref="MoeOptions.SlotsPerExpert"/>): slot logits L [M,S] from the
/// <see cref="SlotRouter"/>; dispatch weights D = softmax of L over the tokens (per slot), combine weights C = softmax of L
/// over the slots (per token); slot s takes the average of the tokens weighted by D[:,s], expert ⌊s/p⌋ (the dense MLP
/// Linear(d,h) → GELU → Linear(h,d)) processes it, and token i's output is the C[i,:]-weighted sum of the slot outputs,
/// followed by dropout. Every token reaches every slot: nothing is dropped, there is no capacity and no balance loss.
/// </summary>
/// <remarks>
/// AC-Soft MoE (<see cref="MoeKind.AcSoftMoe"/>) as the authors build it: the slot router sits behind an
/// <see cref="AdaptiveClusteringRouter"/> whose clusters are the experts of the previous Soft MoE layer's top slot per token,
/// and a token's feature weights are the mix of the weights of the clusters of its top <see cref="MoeOptions.AcMixSlots"/>
/// slots there, weighted by the softmax over those slot logits. The scaled token enters the slot logits and, with
/// <see cref="AcScaledInput.RouterAndExperts"/> (the authors' choice), the dispatched slots as well.
/// What the layer hands on (<see cref="MoeOutput.Routing"/>): the experts of each token's top slots (column 0 the top
/// slot's) and the softmax over their logits, for the next AC layer. For diagnostics the router logits are per expert,
/// log Σ_{s of e} exp L[i,s], whose softmax is the combine weight each expert gets from the token; the balance loss is 0.
/// Tokens are grouped by image: input [B,M,d] (each of the B rows is one image), or [M,d] (one image).
/// </remarks>
public sealed class SoftMoeFeedForward : nn.Module<Tensor, RoutingState?, MoeOutput>
{
    private readonly Router router;
    private readonly Parameter w1;
    private readonly Parameter b1;
    private readonly Parameter w2;
    private readonly Parameter b2;
    private readonly Dropout dropout;

    public SoftMoeFeedForward(int dModel, MoeKind kind, MoeOptions options, string name = "soft_moe") : base(name)
    {
        if (!MoeKindNames.IsSoft(kind)) throw new ArgumentException($"SoftMoeFeedForward needs soft-moe or ac-soft-moe, not {EnumNames.Cli(kind)}", nameof(kind));
        if (dModel < 1) throw new ArgumentException($"d_model must be positive (got {dModel})");
        options.Validate();
        OptionCheck.Require(options.ExpertHidden is not null, nameof(MoeOptions.ExpertHidden), "ExpertHidden must be set for an MoE layer built on its own (a Transformer stack resolves it)");
        DModel = dModel;
        Kind = kind;
        Options = options;
        Slots = options.Experts * options.SlotsPerExpert;
        router = kind == MoeKind.SoftMoe ? new SlotRouter(dModel, Slots) : new AdaptiveClusteringRouter(dModel, MoeKind.SoftMoe, options);
        var (e, h) = (options.Experts, options.ExpertHidden!.Value);
        w1 = new Parameter(MoeFeedForward.LinearLikeUniform([e, dModel, h], fanIn: dModel));
        b1 = new Parameter(MoeFeedForward.LinearLikeUniform([e, h], fanIn: dModel));
        w2 = new Parameter(MoeFeedForward.LinearLikeUniform([e, h, dModel], fanIn: h));
        b2 = new Parameter(MoeFeedForward.LinearLikeUniform([e, dModel], fanIn: h));
        dropout = Dropout(options.Dropout ?? 0.0);
        RegisterComponents();
    }

    public int DModel { get; }
    public MoeKind Kind { get; }
    public MoeOptions Options { get; }

    /// <summary>S = experts × slots per expert; slot s belongs to expert ⌊s / SlotsPerExpert⌋.</summary>
    public int Slots { get; }

    /// <summary>The slot router, or the AC router around it (AC-Soft MoE).</summary>
    public Router Router => router;

    /// <summary>The slot router (inside the AC router for AC-Soft MoE).</summary>
    public SlotRouter SlotRouter => router as SlotRouter ?? (SlotRouter)((AdaptiveClusteringRouter)router).BaseRouter;

    /// <summary>Expert input weights W1 [E,d,h] (expert e computes x·W1[e] + b1[e]).</summary>
    public Parameter ExpertInputWeight => w1;

    /// <summary>Expert input biases b1 [E,h].</summary>
    public Parameter ExpertInputBias => b1;

    /// <summary>Expert output weights W2 [E,h,d].</summary>
    public Parameter OutputProjectionWeight => w2;

    /// <summary>Expert output biases b2 [E,d].</summary>
    public Parameter ExpertOutputBias => b2;

    /// <param name="x">[B,M,d] (B images of M tokens) or [M,d] (one image).</param>
    /// <param name="previous">The previous MoE layer's routing; required by AC-Soft MoE, ignored by Soft MoE.</param>
    public override MoeOutput forward(Tensor x, RoutingState? previous)
    {
        using var scope = torch.NewDisposeScope();
        var (images, tokens) = Groups(x);
        var routed = router.forward(tokens, previous);
        var logits = routed.Logits.view(images.shape[0], images.shape[1], Slots);
        var (dispatch, combine) = DispatchAndCombine(logits);
        // The authors' AC-Soft MoE mixes the scaled tokens into the slots; the router-only placement mixes the raw ones.
        var mixed = Options.AcScaledInput == AcScaledInput.RouterAndExperts && routed.ScaledTokens is { } scaled ? scaled.view(images.shape) : images;
        var slotInputs = dispatch.transpose(1, 2).bmm(mixed);                                          // [B,S,d]
        var slotOutputs = Experts(slotInputs);                                                           // [B,S,d]
        var output = dropout.forward(combine.bmm(slotOutputs)).reshape(x.shape);

        var flat = routed.Logits;                                                                        // [N,S]
        var mix = Math.Min(Options.AcMixSlots, Slots);
        var (topLogits, topSlots) = flat.detach().topk(mix, dim: -1, largest: true, sorted: true);
        var routing = new RoutingState(topSlots.div(Options.SlotsPerExpert, rounding_mode: RoundingMode.floor).MoveToOuterDisposeScope(),
                                       topLogits.softmax(-1).MoveToOuterDisposeScope());
        var expertLogits = flat.view(-1, Options.Experts, Options.SlotsPerExpert).logsumexp(-1);         // [N,E]
        var balance = torch.zeros(Array.Empty<long>(), dtype: ScalarType.Float32, device: x.device);
        return new MoeOutput(output.MoveToOuterDisposeScope(), routing, balance.MoveToOuterDisposeScope(),
            expertLogits.MoveToOuterDisposeScope(), routed.RoutingFeatures.MoveToOuterDisposeScope(), 0);
    }

    /// <summary>
    /// The dispatch and combine weights [B,M,S] of tokens x [B,M,d] (or [M,d]): softmax of the slot logits over the tokens
    /// (each slot's column sums to 1) and over the slots (each token's row sums to 1). In training mode an AC-Soft layer
    /// also folds the batch into its running statistics, as its forward does.
    /// </summary>
    public (Tensor Dispatch, Tensor Combine) Weights(Tensor x, RoutingState? previous)
    {
        using var scope = torch.NewDisposeScope();
        var (images, tokens) = Groups(x);
        var logits = router.forward(tokens, previous).Logits.view(images.shape[0], images.shape[1], Slots);
        var (dispatch, combine) = DispatchAndCombine(logits);
        return (dispatch.MoveToOuterDisposeScope(), combine.MoveToOuterDisposeScope());
    }

    private static (Tensor Dispatch, Tensor Combine) DispatchAndCombine(Tensor logits) => (logits.softmax(1), logits.softmax(2));

    private (Tensor Images, Tensor Tokens) Groups(Tensor x)
    {
        if (x.dim() is < 2 or > 3 || x.shape[^1] != DModel)
            throw new ArgumentException($"Soft MoE input must be [B,M,{DModel}] or [M,{DModel}] (got [{string.Join(",", x.shape)}])");
        var images = x.dim() == 3 ? x : x.unsqueeze(0);
        return (images, images.reshape(-1, DModel));
    }

    /// <summary>Each expert on its slots of every image, as one batched matmul per expert layer: [B,S,d] → [B,S,d].</summary>
    private Tensor Experts(Tensor slotInputs)
    {
        var (b, e, p) = (slotInputs.shape[0], Options.Experts, Options.SlotsPerExpert);
        var perExpert = slotInputs.view(b, e, p, DModel).permute(1, 0, 2, 3).reshape(e, b * p, DModel);   // [E, B·p, d]
        var hidden = nn.functional.gelu(perExpert.bmm(w1) + b1.unsqueeze(1));
        var outputs = hidden.bmm(w2) + b2.unsqueeze(1);
        return outputs.view(e, b, p, DModel).permute(1, 0, 2, 3).reshape(b, Slots, DModel);
    }
}
