using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>
/// The causal elliptical metric on the CPU in one pass over the values: |ΔV| in float32, prefix sums accumulated in
/// float64 and rounded once per position (as libtorch's CPU cumsum does), + ε in float32, then the max over D and the
/// division in float32 — bit for bit <see cref="EllipticalMetric"/>'s tensor ops, without their six passes and
/// temporaries over [B,H,N,D], which cost more than their arithmetic at language-model sizes (docs/results.md, issue 13).
/// </summary>
internal static class CausalMetricScan
{
    /// <summary>CPU float32 values whose last dimension is contiguous (the views of the fused q/k/v projection are), and
    /// running sums, if any, contiguous CPU float64.</summary>
    public static bool Applies(Tensor values, Tensor previousValues, Tensor? runningSums = null) =>
        IsHostFloat32Rows(values) && IsHostFloat32Rows(previousValues)
        && (runningSums is null || runningSums.device_type == DeviceType.CPU && runningSums.dtype == ScalarType.Float64 && runningSums.is_contiguous());

    private static bool IsHostFloat32Rows(Tensor t) => t.dim() == 4 && t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.stride(3) == 1;

    /// <summary>
    /// m [B,H,n,D] (stored position-major) for the n positions of <paramref name="values"/> and <paramref name="previousValues"/> [B,H,n,D]: from
    /// zero sums, or continuing <paramref name="runningSums"/> [B,H,1,D] (the sums over earlier positions), which are
    /// then advanced past these positions in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe Tensor Run(Tensor values, Tensor previousValues, Tensor? runningSums, float eps)
    {
        var shape = values.shape;
        var (b, h, n, d) = (shape[0], shape[1], shape[2], (int)shape[3]);
        // Laid out [B,N,H,D] like the queries it scales (a view of the fused projection): q ⊙ m then runs in that order,
        // which measured faster in a step than against a contiguous [B,H,N,D] m.
        using var positionMajor = empty(new[] { b, n, h, (long)d }, dtype: ScalarType.Float32, device: values.device);
        using var valueStorage = values.storage<float>();
        using var previousStorage = previousValues.storage<float>();
        using var metricStorage = positionMajor.storage<float>();
        using var sumStorage = runningSums?.storage<double>();
        var v = (float*)valueStorage.data_ptr() + values.storage_offset();
        var p = (float*)previousStorage.data_ptr() + previousValues.storage_offset();
        var m = (float*)metricStorage.data_ptr();
        var carried = sumStorage is null ? null : (double*)sumStorage.data_ptr() + runningSums!.storage_offset();
        var (vs, ps) = (values.stride(), previousValues.stride());
        var fresh = new double[h * d];
        var shifted = new float[d];
        fixed (double* zeroed = fresh)
        fixed (float* shift = shifted)
        {
            for (var i = 0L; i < b; i++)
            {
                var sums = zeroed;                                                                  // [H,D] of sequence i
                if (carried is null) Array.Clear(fresh);
                else sums = carried + i * h * d;
                // Position-major: the fused projection stores a position's heads side by side, so this reads both inputs in order.
                for (var t = 0L; t < n; t++)
                    for (var j = 0L; j < h; j++)
                    {
                        var max = AccumulateRow(v + i * vs[0] + j * vs[1] + t * vs[2], p + i * ps[0] + j * ps[1] + t * ps[2], sums + j * d, shift, d, eps);
                        DivideRow(shift, max, m + ((i * n + t) * h + j) * d, d);
                    }
            }
        }
        return positionMajor.permute(0, 2, 1, 3);                                                     // [B,H,n,D]
    }

    /// <summary>sums += |v − p| (float32 difference, float64 sums); shifted = float32(sums) + ε; returns max(shifted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float AccumulateRow(float* v, float* p, double* sums, float* shifted, int d, float eps)
    {
        var q = 0;
        var max = Vector256.Create(float.NegativeInfinity);
        var epsilon = Vector256.Create(eps);
        for (; q <= d - Vector256<float>.Count; q += Vector256<float>.Count)
        {
            var (low, high) = Vector256.Widen(Vector256.Abs(Vector256.Load(v + q) - Vector256.Load(p + q)));
            low += Vector256.Load(sums + q);
            high += Vector256.Load(sums + q + Vector256<double>.Count);
            low.Store(sums + q);
            high.Store(sums + q + Vector256<double>.Count);
            var rounded = Vector256.Narrow(low, high) + epsilon;
            rounded.Store(shifted + q);
            max = Vector256.Max(max, rounded);                                   // NaN-propagating, like amax
        }
        var half = Vector128.Max(max.GetLower(), max.GetUpper());
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        var result = Math.Max(half.GetElement(0), half.GetElement(1));
        for (; q < d; q++)
        {
            sums[q] += Math.Abs(v[q] - p[q]);
            shifted[q] = (float)sums[q] + eps;
            result = Math.Max(result, shifted[q]);
        }
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void DivideRow(float* shifted, float max, float* metric, int d)
    {
        var q = 0;
        var divisor = Vector256.Create(max);
        for (; q <= d - Vector256<float>.Count; q += Vector256<float>.Count)
            (Vector256.Load(shifted + q) / divisor).Store(metric + q);
        for (; q < d; q++) metric[q] = shifted[q] / max;
    }
}
