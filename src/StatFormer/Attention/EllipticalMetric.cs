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
    /// Returns [B,H,1,D] for <see cref="EllipticalEstimator.Sequence"/> and <see cref="EllipticalEstimator.Median"/>, and [B,H,N,D] (one m per query
    /// position) for <see cref="EllipticalEstimator.Causal"/>; either broadcasts against q.
    /// No gradient flows through m.
    /// </summary>
    /// <param name="keyPaddingMask">Optional [B,N] bool, true where a token is padding; padding is left out of the means.</param>
    /// <param name="eps">Added to numerator and denominator, so values that did not change at all give m = 1 (isotropic, i.e. standard attention) instead of the authors' 0/0; negligible otherwise.</param>
    public static Tensor Estimate(Tensor values, Tensor previousValues, EllipticalEstimator estimator, Tensor? keyPaddingMask = null, double eps = 1e-6)
    {
        if (!values.shape.SequenceEqual(previousValues.shape))
            throw new ArgumentException($"values {Shape(values)} and previous values {Shape(previousValues)} must have the same shape [B,H,N,D]");
        if (estimator == EllipticalEstimator.Median && keyPaddingMask is not null)
            throw new ArgumentException("the median estimator takes no key padding mask (a median over padded positions is not defined here)", nameof(keyPaddingMask));
        using var noGrad = torch.no_grad();
        if (estimator == EllipticalEstimator.Causal && keyPaddingMask is null && CausalMetricScan.Applies(values, previousValues))
            return CausalMetricScan.Run(values, previousValues, null, (float)eps);
        return EstimateWithTensorOps(values, previousValues, estimator, keyPaddingMask, eps);
    }

    /// <summary><see cref="Estimate"/> as tensor ops on any device (the CPU's causal case runs <see cref="CausalMetricScan"/>, which tests hold to this).</summary>
    internal static Tensor EstimateWithTensorOps(Tensor values, Tensor previousValues, EllipticalEstimator estimator, Tensor? keyPaddingMask, double eps)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var change = values.sub(previousValues).abs_();                                // [B,H,N,D] (no_grad: no detach needed)
        if (estimator == EllipticalEstimator.Median)
        {
            // torch.median's convention: the lower middle value when N is even.
            var (sorted, _) = change.sort(2);                                            // [B,H,N,D]
            return Normalise(sorted.narrow(2, (change.shape[2] - 1) / 2, 1).contiguous(), eps).MoveToOuterDisposeScope();   // [B,H,1,D]
        }
        if (keyPaddingMask is not null)
            change.mul_(keyPaddingMask.logical_not().to_type(change.dtype).reshape(change.shape[0], 1, change.shape[2], 1));
        // The mean's 1/count is one scalar per (b, h, position), so it cancels in the max-normalisation:
        // sums give the same m with two fewer passes over [B,H,N,D] (this runs in every elliptical layer).
        var sums = estimator == EllipticalEstimator.Sequence
            ? change.sum(new long[] { 2 }, keepdim: true)                                // [B,H,1,D]
            : change.cumsum(2);                                                          // [B,H,N,D] prefix sums
        return Normalise(sums, eps).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The causal estimate for the next positions of a decoded sequence: values and previous values [B,H,n,D] of
    /// positions t₀ … t₀+n−1 only, and <paramref name="runningSums"/> [B,H,1,D] float64, the sums of |ΔV| over the
    /// positions before t₀, which this adds the new positions to. Returns m [B,H,n,D], the very m that
    /// <see cref="Estimate"/> with <see cref="EllipticalEstimator.Causal"/> gives those positions over the whole prefix:
    /// libtorch's CPU cumsum accumulates float in double and rounds each prefix sum once, and so does this.
    /// </summary>
    public static Tensor EstimateStep(Tensor values, Tensor previousValues, Tensor runningSums, double eps = 1e-6)
    {
        if (!values.shape.SequenceEqual(previousValues.shape))
            throw new ArgumentException($"values {Shape(values)} and previous values {Shape(previousValues)} must have the same shape [B,H,n,D]");
        if (values.dim() != 4 || !runningSums.shape.SequenceEqual(new[] { values.shape[0], values.shape[1], 1, values.shape[3] }))
            throw new ArgumentException($"running sums {Shape(runningSums)} must be [B,H,1,D] for values {Shape(values)}");
        using var noGrad = torch.no_grad();
        if (CausalMetricScan.Applies(values, previousValues, runningSums))
            return CausalMetricScan.Run(values, previousValues, runningSums, (float)eps);
        return EstimateStepWithTensorOps(values, previousValues, runningSums, eps);
    }

    /// <summary><see cref="EstimateStep"/> as tensor ops on any device (the CPU runs <see cref="CausalMetricScan"/>, which tests hold to this).</summary>
    internal static Tensor EstimateStepWithTensorOps(Tensor values, Tensor previousValues, Tensor runningSums, double eps)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var n = values.shape[2];
        var change = values.sub(previousValues).abs_();                                // [B,H,n,D] (no_grad: no detach needed)
        Tensor sums;
        if (n == 1)
        {
            // One new position (every decoding step after the prompt): the scan is one addition, done in float64 as
            // the cumsum below and the full forward's do.
            runningSums.add_(change);
            sums = change.dtype == runningSums.dtype ? runningSums.clone() : runningSums.to(change.dtype);   // [B,H,1,D], not an alias of the state
        }
        else
        {
            // The earlier positions' sum leads the scan, so the additions happen in the full forward's order.
            var scanned = torch.cat(new[] { runningSums, change.to(ScalarType.Float64) }, 2).cumsum(2).narrow(2, 1, n);   // [B,H,n,D]
            runningSums.copy_(scanned.narrow(2, n - 1, 1));
            sums = scanned.to(change.dtype);
        }
        return Normalise(sums, eps).MoveToOuterDisposeScope();
    }

    /// <summary>m = (S + ε) / (max_d S + ε), in place on the sums.</summary>
    private static Tensor Normalise(Tensor sums, double eps)
    {
        // eps on both sides: unchanged values (all sums 0) give m = 1, i.e. standard attention, not 0/0.
        // The max of the shifted sums is the shifted max bit for bit (rounding is monotonic), one op fewer.
        sums.add_(eps);
        return sums.div_(sums.amax(new long[] { -1 }, keepdim: true));
    }

    /// <summary>
    /// The mean of a metric m [B,H,1|N,D] over the batch and positions, per head and coordinate, flattened
    /// head-major (h·D + d): what run summaries report per elliptical layer.
    /// </summary>
    public static double[] MeanPerHead(Tensor metric)
    {
        using var mean = metric.mean(new long[] { 0, 2 });                             // [H,D]
        using var single = mean.to_type(ScalarType.Float32).cpu();
        return single.data<float>().ToArray().Select(v => (double)v).ToArray();
    }

    private static string Shape(Tensor t) => "[" + string.Join(",", t.shape) + "]";
}
