namespace StatFormer.Attention;

/// <summary>How the attention scores are computed once q, k, v (and the metric) are known.</summary>
public enum AttentionKernel
{
    /// <summary>libtorch's fused <c>scaled_dot_product_attention</c>; the metric is folded into q.</summary>
    Fused,
    /// <summary>Plain matmul → softmax → matmul with the metric as an explicit diagonal matrix (reference for tests and benchmarks).</summary>
    Explicit,
}
