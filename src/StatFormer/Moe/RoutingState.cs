using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// What one MoE layer hands to the next (the AC router's clusters). N = B·T flattened tokens.
/// </summary>
/// <param name="TopIndices">int64 [N,k], sorted by descending router logit: column 0 is the true top-1 (argmax).</param>
/// <param name="GateWeights">[N,k] softmax over the k selected logits, in the same column order (detached).</param>
public sealed record RoutingState(Tensor TopIndices, Tensor GateWeights);
