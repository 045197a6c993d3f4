using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>The result of one MoE layer.</summary>
/// <param name="Output">Same shape as the input.</param>
/// <param name="Routing">Top-k experts (column 0 = argmax) and gate weights, for the next MoE layer.</param>
/// <param name="BalanceLoss">Scalar <see cref="LoadBalanceLoss"/> of this layer (with gradient to the router).</param>
/// <param name="RouterLogits">[N,E] router logits (with gradient).</param>
/// <param name="RoutingFeatures">[N,r] detached: the space the router scored in.</param>
/// <param name="DroppedAssignments">Token-expert assignments dropped by the capacity limit (0 without one).</param>
public sealed record MoeOutput(Tensor Output, RoutingState Routing, Tensor BalanceLoss, Tensor RouterLogits, Tensor RoutingFeatures, long DroppedAssignments)
{
    /// <summary>Moves every tensor to the enclosing dispose scope (for callers that return the output from their own scope).</summary>
    public MoeOutput MoveToOuterDisposeScope() => this with
    {
        Output = Output.MoveToOuterDisposeScope(),
        Routing = new RoutingState(Routing.TopIndices.MoveToOuterDisposeScope(), Routing.GateWeights.MoveToOuterDisposeScope()),
        BalanceLoss = BalanceLoss.MoveToOuterDisposeScope(),
        RouterLogits = RouterLogits.MoveToOuterDisposeScope(),
        RoutingFeatures = RoutingFeatures.MoveToOuterDisposeScope(),
    };
}
