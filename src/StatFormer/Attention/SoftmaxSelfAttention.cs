using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>Standard multi-head softmax attention, softmax(q kᵀ/√D) v, through libtorch's fused kernel.</summary>
public sealed class SoftmaxSelfAttention : SelfAttention
{
    public SoftmaxSelfAttention(int dModel, int heads, double dropout = 0.0, bool causal = true, string name = "softmax_attention")
        : base(name, dModel, heads, dropout, causal)
    {
        RegisterComponents();
    }

    protected override (double QueryScale, Tensor? Metric) QueryTransform(Tensor q, Tensor v, Tensor? previousValues, Tensor? keyPaddingMask) => (1.0, null);
}
