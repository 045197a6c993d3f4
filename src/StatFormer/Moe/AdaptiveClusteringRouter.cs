using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// The ACMoE router: it scales each token by the feature weights of its cluster under the previous MoE
/// layer's routing (<see cref="AdaptiveClusteringWeights"/>, clusters = that layer's top-1 experts) and
/// routes the scaled token with a standard base router (linear for AC-SMoE, cosine for AC-XMoE).
/// The experts still receive the unscaled token; only the routing sees the scaled one.
/// </summary>
/// <remarks>
/// The weights are recomputed from every batch, without gradient: gradients reach x through x ⊙ W (W a
/// constant) and the base router's parameters, never the weights or the previous layer's routing.
/// The previous layer must have the same number of experts (its labels are the clusters).
/// </remarks>
public sealed class AdaptiveClusteringRouter : Router
{
    private readonly Router baseRouter;
    private readonly double epsilon;
    private readonly double clipMultiple;
    private readonly bool mixTopK;

    /// <param name="baseKind">Smoe (linear) or Xmoe (cosine): the router that scores the scaled tokens.</param>
    public AdaptiveClusteringRouter(int dModel, MoeKind baseKind, MoeOptions options, string name = "ac_router")
        : base(name, dModel, options.Experts)
    {
        options.Validate();
        baseRouter = baseKind switch
        {
            MoeKind.Smoe => new LinearRouter(dModel, options.Experts),
            MoeKind.Xmoe => new CosineRouter(dModel, options.Experts, options.XmoeDim, options.XmoeTemperature, options.XmoeLearnableTemperature),
            _ => throw new ArgumentException($"the AC router wraps smoe or xmoe, not {MoeKindNames.ToCli(baseKind)}"),
        };
        BaseKind = baseKind;
        epsilon = options.AcEpsilon;
        clipMultiple = options.AcClipMultiple;
        mixTopK = options.AcMixTopK;
        RegisterComponents();
    }

    public MoeKind BaseKind { get; }

    /// <summary>The wrapped router (it scores the scaled tokens).</summary>
    public Router BaseRouter => baseRouter;

    public override bool NeedsPreviousRouting => true;

    /// <summary>The per-token weights [N,d] (no gradient) the router input is multiplied by.</summary>
    public Tensor TokenWeights(Tensor x, RoutingState previous)
    {
        if (previous.TopIndices.dim() != 2 || previous.TopIndices.shape[0] != x.shape[0])
            throw new ArgumentException($"the previous routing covers {previous.TopIndices.shape[0]} tokens, this layer has {x.shape[0]}");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var topIndices = previous.TopIndices.to(ScalarType.Int64);
        var labels = topIndices.select(1, 0).contiguous();
        var weights = AdaptiveClusteringWeights.Compute(x.detach(), labels, Experts, epsilon, clipMultiple);
        Tensor perToken;
        if (!mixTopK)
        {
            perToken = weights.index_select(0, labels);
        }
        else
        {
            var (n, k) = (topIndices.shape[0], topIndices.shape[1]);
            var rows = weights.index_select(0, topIndices.reshape(-1)).reshape(n, k, -1);
            perToken = (rows * previous.GateWeights.detach().to(ScalarType.Float32).unsqueeze(-1)).sum(1);
        }
        return perToken.to(x.dtype).MoveToOuterDisposeScope();
    }

    public override RouterOutput Route(Tensor x, RoutingState? previous)
    {
        if (previous is null)
            throw new InvalidOperationException("the AC router needs the previous MoE layer's routing; the first MoE layer must use the base router");
        using var scope = torch.NewDisposeScope();
        var weights = TokenWeights(x, previous);
        var routed = baseRouter.Route(x * weights, null);
        return new RouterOutput(routed.Logits.MoveToOuterDisposeScope(), routed.RoutingFeatures.MoveToOuterDisposeScope());
    }
}
