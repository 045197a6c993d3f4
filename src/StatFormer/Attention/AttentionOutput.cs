using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>
/// What a self-attention layer returns: its output [B,N,C] and its values [B,H,N,D] (detached),
/// which the next layer's elliptical estimator compares against its own.
/// </summary>
public readonly record struct AttentionOutput(Tensor Output, Tensor Values);
