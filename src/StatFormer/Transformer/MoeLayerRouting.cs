using static TorchSharp.torch;

namespace StatFormer.Transformer;

/// <summary>
/// One MoE layer's routing of a batch, detached, for diagnostics: the top-k experts per token [N,k]
/// (column 0 the top-1), the router logits over all experts [N,E], and the token features in the
/// space the router scores in [N,r].
/// </summary>
public sealed record MoeLayerRouting(Tensor TopIndices, Tensor RouterLogits, Tensor RoutingFeatures);
