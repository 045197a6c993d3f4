using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>
/// What a self-attention layer returns: its output [B,N,C], its values [B,H,N,D] (detached), which the
/// next layer's elliptical estimator compares against its own, and the diagonal metric m it applied
/// ([B,H,1,D] sequence estimator or [B,H,N,D] causal, detached; null for softmax attention and for an
/// elliptical layer without previous values).
/// </summary>
public readonly record struct AttentionOutput(Tensor Output, Tensor Values, Tensor? Metric);
