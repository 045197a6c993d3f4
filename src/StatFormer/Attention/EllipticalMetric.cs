using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>
/// The parameter-free estimate of the per-coordinate weights m of Elliptical Attention
/// (research spec §1.3a): the mean absolute change of the values between consecutive layers,
/// divided by its maximum over coordinates so that max_d m = 1.
/// </summary>
public static class EllipticalMetric
{
    /// <summary>
    /// Computes m from this layer's values and the previous layer's values, both [B,H,N,D].
    /// Returns [B,H,1,D] for <see cref="EllipticalEstimator.Sequence"/> and [B,H,N,D] (one m per query
    /// position) for <see cref="EllipticalEstimator.Causal"/>; either broadcasts against q.
    /// No gradient flows through m.
    /// </summary>
    /// <param name="keyPaddingMask">Optional [B,N] bool, true where a token is padding; padding is left out of the means.</param>
    /// <param name="eps">A maximum at or below eps means the values did not change at all: m is then 1 (isotropic, i.e. standard attention) instead of the authors' 0/0.</param>
    public static Tensor Estimate(Tensor values, Tensor previousValues, EllipticalEstimator estimator, Tensor? keyPaddingMask = null, double eps = 1e-6)
    {
        if (!values.shape.SequenceEqual(previousValues.shape))
            throw new ArgumentException($"values {Shape(values)} and previous values {Shape(previousValues)} must have the same shape [B,H,N,D]");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var change = (values.detach() - previousValues.detach()).abs();           // [B,H,N,D]
        Tensor? valid = null;
        if (keyPaddingMask is not null)
        {
            valid = keyPaddingMask.logical_not().to_type(change.dtype).reshape(change.shape[0], 1, change.shape[2], 1);
            change = change * valid;
        }
        Tensor w;
        if (estimator == EllipticalEstimator.Sequence)
        {
            var count = valid is null ? (Tensor)change.shape[2] : valid.sum(new long[] { 2 }, keepdim: true).clamp_min(1);
            w = change.sum(new long[] { 2 }, keepdim: true) / count;                // [B,H,1,D]
        }
        else
        {
            var count = valid is null
                ? torch.arange(1, change.shape[2] + 1, dtype: change.dtype).reshape(1, 1, -1, 1)
                : valid.cumsum(2).clamp_min(1);
            w = change.cumsum(2) / count;                                           // [B,H,N,D]
        }
        var max = w.amax(new long[] { -1 }, keepdim: true);
        var m = torch.where(max > eps, w / max.clamp_min(eps), torch.ones_like(w));
        return m.MoveToOuterDisposeScope();
    }

    private static string Shape(Tensor t) => "[" + string.Join(",", t.shape) + "]";
}
