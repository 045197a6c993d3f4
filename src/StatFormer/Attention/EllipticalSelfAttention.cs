using StatFormer.Transformer;
using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>
/// Elliptical Attention: softmax(q diag(m) kᵀ · scale) v, where m is estimated without parameters from how
/// the values changed since the previous layer (<see cref="EllipticalMetric"/>). With no previous values
/// (the first layer) it is standard softmax attention. m is folded into q, so the fused kernel is used
/// unchanged and the extra cost is one O(B·H·N·D) reduction.
/// </summary>
public sealed class EllipticalSelfAttention : SelfAttention
{
    /// <param name="estimator">
    /// Null picks the estimator that matches <paramref name="causal"/>: the prefix mean for causal attention
    /// (no look-ahead) and the authors' whole-sequence mean otherwise (every position may see every token anyway).
    /// An explicit value is honoured, including the leaking <see cref="EllipticalEstimator.Sequence"/> with
    /// causal attention that <c>--estimator sequence</c> selects to reproduce the authors' LM.
    /// </param>
    public EllipticalSelfAttention(int dModel, int heads, double dropout = 0.0, bool causal = true,
        EllipticalEstimator? estimator = null, bool unscaled = false, string name = "elliptical_attention")
        : base(name, dModel, heads, dropout, causal)
    {
        Estimator = estimator ?? DefaultEstimator(causal);
        Unscaled = unscaled;
        RegisterComponents();
    }

    /// <summary>
    /// Settable so that a trained model can be evaluated with another estimator than it was trained with: the authors
    /// attack mean-trained image models with <see cref="EllipticalEstimator.Median"/>.
    /// </summary>
    public EllipticalEstimator Estimator { get; set; }

    /// <summary>The estimator used when none is given: causal attention needs the prefix mean, non-causal attention can use the authors' sequence mean.</summary>
    public static EllipticalEstimator DefaultEstimator(bool causal) => causal ? EllipticalEstimator.Causal : EllipticalEstimator.Sequence;

    /// <summary>
    /// True reproduces the authors' language-model code, which drops 1/√D in elliptical layers
    /// (research spec §1.4); false (default) keeps the paper's 1/√D.
    /// </summary>
    public bool Unscaled { get; }

    protected override (double QueryScale, Tensor? Metric) QueryTransform(Tensor q, Tensor v, Tensor? previousValues, Tensor? keyPaddingMask)
    {
        if (previousValues is null) return (1.0, null);
        var metric = EllipticalMetric.Estimate(v, previousValues, Estimator, keyPaddingMask);
        return (Unscaled ? Math.Sqrt(HeadDim) : 1.0, metric);
    }

    /// <summary>The causal estimator continued from the cached prefix sums; the sequence estimator cannot be cached (m would change with every later token).</summary>
    protected override (double QueryScale, Tensor? Metric) StepQueryTransform(Tensor q, Tensor v, Tensor? previousValues, LayerCache cache)
    {
        if (previousValues is null) return (1.0, null);
        if (Estimator != EllipticalEstimator.Causal || cache.ChangeSums is null)
            throw new NotSupportedException("cached decoding needs the causal elliptical estimator: with the sequence estimator every position's m depends on later tokens");
        var metric = EllipticalMetric.EstimateStep(v, previousValues, cache.ChangeSums);
        return (Unscaled ? Math.Sqrt(HeadDim) : 1.0, metric);
    }
}
