using System.Numerics;
using System.Runtime.InteropServices;
using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// The adaptive-clustering feature weights of ACMoE (Nielsen et al., ICLR 2025): for every cluster (the
/// previous MoE layer's top-1 expert) and feature, the inverse of the cluster's mean absolute deviation
/// along that feature, so features along which a cluster is tight get large weights.
/// </summary>
/// <remarks>
/// From per-cluster token counts n_k and spreads MAD_kq = mean_{i∈k} |x_iq − μ_kq|:
/// 1. shrink towards the pooled within-cluster spread, as if every cluster held <see cref="PriorTokens"/> extra
///    tokens of average spread, and floor at a fraction of it:
///    MAD'_kq = max((n_k·MAD_kq + κ·P_q)/(n_k + κ), P_q·<see cref="MinRelativeSpread"/>), P_q = Σ_k n_k·MAD_kq / Σ_k n_k;
/// 2. w_kq = 1/(MAD'_kq + ε), clipped at clipMultiple × (mean of w over populated clusters and all features);
/// 3. divided by its per-feature mean over populated clusters, so every feature averages 1 (<see cref="AcNormalisation.PerFeature"/>,
///    the authors' LM code), or by its mean over populated clusters and all features (<see cref="AcNormalisation.Global"/>,
///    their Soft MoE code).
/// Clusters with no tokens get rows of 1 (neutral) and take part in neither mean.
/// Step 1 is ours (docs/moe.md): without it a cluster of one token, or a feature constant within one cluster,
/// has MAD 0 and w = 1/ε = 1e4, which dominates the per-feature mean and collapses every other cluster's
/// weights to ~1e-4. With it a one-token cluster's weights stay near the pooled ones (a cluster of hundreds of
/// tokens is barely moved), and no cluster counts as more than 1/<see cref="MinRelativeSpread"/> times tighter
/// than the pooled spread along a feature (the clip at a multiple of the mean weight cannot do that alone: those
/// very entries raise the mean). A feature constant over every token keeps weight 1 in every cluster. The authors' code also lets an empty cluster (below the largest label) enter both
/// means with MAD 0; we leave empty clusters out. Everything is computed without gradient.
/// </remarks>
public static class AdaptiveClusteringWeights
{
    /// <summary>κ, the pseudo-count of the shrinkage towards the pooled spread.</summary>
    public const double PriorTokens = 1.0;

    /// <summary>The floor of a cluster's spread as a fraction of the pooled spread of the feature.</summary>
    public const double MinRelativeSpread = 0.1;

    /// <summary>The weights of one batch's clusters: <see cref="FromDeviationSums"/> of <see cref="ClusterDeviationSums"/>.</summary>
    /// <param name="x">[N,d] token features (detached inside).</param>
    /// <param name="labels">[N] int64 cluster labels in [0, clusters).</param>
    /// <param name="clusters">K, the number of clusters (experts of the previous MoE layer).</param>
    /// <returns>[K,d] float32 weights, requires_grad false.</returns>
    public static Tensor Compute(Tensor x, Tensor labels, int clusters, double epsilon = 1e-4, double clipMultiple = 10,
        AcNormalisation normalisation = AcNormalisation.PerFeature)
    {
        using var scope = torch.NewDisposeScope();
        var (counts, deviationSums) = ClusterDeviationSums(x, labels, clusters);
        return FromDeviationSums(counts, deviationSums, epsilon, clipMultiple, normalisation).MoveToOuterDisposeScope();
    }

    /// <summary>Per-cluster token counts [K] and mean absolute deviations about the cluster mean [K,d] (float32, no gradient; 0 for empty clusters).</summary>
    public static (Tensor Counts, Tensor Mad) ClusterStatistics(Tensor x, Tensor labels, int clusters)
    {
        using var scope = torch.NewDisposeScope();
        var (counts, deviationSums) = ClusterDeviationSums(x, labels, clusters);
        var mad = deviationSums.div_(counts.clamp_min(1).unsqueeze(1));
        return (counts.MoveToOuterDisposeScope(), mad.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Per-cluster token counts n_k [K] and summed absolute deviations about the cluster mean, n_k·MAD_k = Σ_{i∈k} |x_i − μ_k|
    /// [K,d] (float32, no gradient; 0 for empty clusters): what the running estimator averages.
    /// </summary>
    /// <remarks>
    /// On the CPU two passes over x in C#: the same float32 sums in token order as libtorch's index_add_ (bit for bit), at a
    /// fraction of the cost of the ten tensor ops (three scattered or gathered passes over [N,d]) they take there — most of
    /// the AC router's overhead on small models (docs/moe.md). Elsewhere those tensor ops (<see cref="TensorClusterDeviationSums"/>).
    /// </remarks>
    public static (Tensor Counts, Tensor DeviationSums) ClusterDeviationSums(Tensor x, Tensor labels, int clusters)
    {
        if (x.device_type != DeviceType.CPU) return TensorClusterDeviationSums(x, labels, clusters);
        var (counts, sums) = HostClusterDeviationSums(x, labels, clusters);
        // The default device may be another one: name the CPU.
        return (HostTensor.From(counts, device: x.device), HostTensor.From(sums, new long[] { clusters, sums.Length / clusters }, x.device));
    }

    /// <summary><see cref="ClusterDeviationSums"/> as tensor ops (any device): bincount, two index_add_ passes and a gather.</summary>
    internal static (Tensor Counts, Tensor DeviationSums) TensorClusterDeviationSums(Tensor x, Tensor labels, int clusters)
    {
        CheckClusterInput(x, labels, clusters);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var features = x.to(ScalarType.Float32);
        var index = labels.to(ScalarType.Int64);
        var counts = torch.bincount(index, minlength: clusters).to(ScalarType.Float32);
        if (counts.shape[0] != clusters)
            throw new ArgumentException($"cluster labels must lie in [0, {clusters}) (found label {counts.shape[0] - 1})");
        var d = features.shape[1];
        var mean = torch.zeros(clusters, d, dtype: ScalarType.Float32, device: x.device)
            .index_add_(0, index, features, 1.0).div_(counts.clamp_min(1).unsqueeze(1));       // empty rows: 0 / 1
        var deviation = features.sub(mean.index_select(0, index)).abs_();                       // [N,d]
        var sums = torch.zeros(clusters, d, dtype: ScalarType.Float32, device: x.device).index_add_(0, index, deviation, 1.0);
        return (counts.MoveToOuterDisposeScope(), sums.MoveToOuterDisposeScope());
    }

    private static void CheckClusterInput(Tensor x, Tensor labels, int clusters)
    {
        if (x.dim() != 2) throw new ArgumentException($"x must be [N,d] (got [{string.Join(",", x.shape)}])");
        if (labels.dim() != 1 || labels.shape[0] != x.shape[0])
            throw new ArgumentException($"labels must be [N] with N = {x.shape[0]} (got [{string.Join(",", labels.shape)}])");
        if (x.shape[0] < 1) throw new ArgumentException("the AC weights need at least one token");
        if (clusters < 1) throw new ArgumentException($"clusters must be at least 1 (got {clusters})");
    }

    /// <summary><see cref="ClusterDeviationSums"/> as host arrays, counts [K] and sums [K·d] row-major, from x on any device.</summary>
    internal static (float[] Counts, float[] DeviationSums) HostClusterDeviationSums(Tensor x, Tensor labels, int clusters)
    {
        CheckClusterInput(x, labels, clusters);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var features = x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        var index = labels.dtype == ScalarType.Int64 ? labels : labels.to(ScalarType.Int64);
        if (features.device_type == DeviceType.CPU) return CpuClusterDeviationSums(features.contiguous(), index.contiguous(), clusters);
        var (counts, sums) = TensorClusterDeviationSums(features, index, clusters);
        return (HostValues(counts), HostValues(sums));
    }

    /// <summary>Counts [K] and Σ_{i∈k} |x_i − μ_k| [K·d] of contiguous CPU float32 features [N,d] and int64 labels [N].</summary>
    private static (float[] Counts, float[] DeviationSums) CpuClusterDeviationSums(Tensor features, Tensor labels, int clusters)
    {
        var d = (int)features.shape[1];
        var x = MemoryMarshal.Cast<byte, float>(features.bytes);
        var label = MemoryMarshal.Cast<byte, long>(labels.bytes);
        var counts = new float[clusters];
        var sums = new float[clusters * d];
        for (var i = 0; i < label.Length; i++)
        {
            var k = label[i];
            if (k < 0 || k >= clusters) throw new ArgumentException($"cluster labels must lie in [0, {clusters}) (found label {k})");
            counts[k]++;
            AddRow(sums.AsSpan((int)k * d, d), x.Slice(i * d, d));
        }
        var mean = sums;                                                         // sums / max(n, 1), in place: empty rows stay 0
        for (var k = 0; k < clusters; k++)
        {
            var size = Math.Max(counts[k], 1f);
            for (var q = 0; q < d; q++) mean[k * d + q] /= size;
        }
        var deviationSums = new float[clusters * d];
        for (var i = 0; i < label.Length; i++)
        {
            var k = (int)label[i];
            AddAbsoluteDifference(deviationSums.AsSpan(k * d, d), x.Slice(i * d, d), mean.AsSpan(k * d, d));
        }
        return (counts, deviationSums);
    }

    // Feature-wise, so each feature's sum runs over the tokens in order (as index_add_ does), in float32.
    private static void AddRow(Span<float> total, ReadOnlySpan<float> row)
    {
        var q = 0;
        for (; q <= row.Length - Vector<float>.Count; q += Vector<float>.Count)
            (new Vector<float>(total[q..]) + new Vector<float>(row[q..])).CopyTo(total[q..]);
        for (; q < row.Length; q++) total[q] += row[q];
    }

    private static void AddAbsoluteDifference(Span<float> total, ReadOnlySpan<float> row, ReadOnlySpan<float> center)
    {
        var q = 0;
        for (; q <= row.Length - Vector<float>.Count; q += Vector<float>.Count)
            (new Vector<float>(total[q..]) + Vector.Abs(new Vector<float>(row[q..]) - new Vector<float>(center[q..]))).CopyTo(total[q..]);
        for (; q < row.Length; q++) total[q] += Math.Abs(row[q] - center[q]);
    }

    /// <summary>The weights from per-cluster counts (any non-negative reals, e.g. running averages) and spreads.</summary>
    /// <param name="counts">[K] token counts (0 = empty cluster).</param>
    /// <param name="mad">[K,d] mean absolute deviations.</param>
    /// <returns>[K,d] float32 weights on the device of <paramref name="mad"/>, requires_grad false; all ones when every count is 0.</returns>
    public static Tensor FromStatistics(Tensor counts, Tensor mad, double epsilon = 1e-4, double clipMultiple = 10,
        AcNormalisation normalisation = AcNormalisation.PerFeature)
    {
        CheckStatistics(counts, mad, epsilon, normalisation);
        var n = HostValues(counts);
        var spread = HostValues(mad);
        return HostTensor.From(FromHostStatistics(n, spread, epsilon, clipMultiple, normalisation), mad.shape, mad.device);
    }

    /// <summary>
    /// The weights from per-cluster counts and summed deviations n_k·MAD_k (the running estimator's buffers): MAD_k is the
    /// sum over the count (0 for an empty cluster), then as <see cref="FromStatistics"/>.
    /// </summary>
    public static Tensor FromDeviationSums(Tensor counts, Tensor deviationSums, double epsilon = 1e-4, double clipMultiple = 10,
        AcNormalisation normalisation = AcNormalisation.PerFeature)
    {
        CheckStatistics(counts, deviationSums, epsilon, normalisation);
        return FromHostDeviationSums(HostValues(counts), HostValues(deviationSums), deviationSums.device, epsilon, clipMultiple, normalisation);
    }

    /// <summary><see cref="FromDeviationSums"/> of host arrays, counts [K] and sums [K·d] row-major (left unchanged): [K,d] on <paramref name="device"/>.</summary>
    internal static Tensor FromHostDeviationSums(float[] counts, float[] deviationSums, Device device, double epsilon, double clipMultiple, AcNormalisation normalisation)
    {
        var d = deviationSums.Length / counts.Length;
        var spread = new float[deviationSums.Length];
        for (var k = 0; k < counts.Length; k++)
            for (var q = 0; q < d; q++)
                spread[k * d + q] = counts[k] > 0 ? deviationSums[k * d + q] / counts[k] : 0;
        return HostTensor.From(FromHostStatistics(counts, spread, epsilon, clipMultiple, normalisation), new long[] { counts.Length, d }, device);
    }

    private static void CheckStatistics(Tensor counts, Tensor spread, double epsilon, AcNormalisation normalisation)
    {
        if (!Enum.IsDefined(normalisation)) throw new ArgumentException($"unknown AC normalisation {normalisation}");
        if (spread.dim() != 2) throw new ArgumentException($"the spreads must be [K,d] (got [{string.Join(",", spread.shape)}])");
        if (counts.dim() != 1 || counts.shape[0] != spread.shape[0])
            throw new ArgumentException($"the counts must be [K] with K = {spread.shape[0]} (got [{string.Join(",", counts.shape)}])");
        if (!(epsilon > 0)) throw new ArgumentException($"epsilon must be positive (got {epsilon})");
    }

    // The [K,d] statistics are a few hundred numbers: read once and computed here, they cost two copies instead of the
    // thirty-odd tiny tensor ops (each far dearer than its arithmetic) that the formula takes on the device.
    internal static float[] HostValues(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var host = t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32).cpu();
        return host.contiguous().data<float>().ToArray();
    }

    /// <summary>The formula of the class remarks on host arrays: counts n [K], spreads [K·d] row-major; returns w [K·d].</summary>
    private static float[] FromHostStatistics(float[] n, float[] spread, double epsilon, double clipMultiple, AcNormalisation normalisation)
    {
        var clusters = n.Length;
        var d = spread.Length / clusters;
        var weights = new float[spread.Length];
        var total = n.Sum(v => (double)v);
        if (total <= 0)
        {
            Array.Fill(weights, 1f);
            return weights;
        }

        var pooled = new double[d];                                             // P_q = Σ_k n_k·MAD_kq / Σ_k n_k
        for (var k = 0; k < clusters; k++)
            for (var q = 0; q < d; q++)
                pooled[q] += n[k] * (double)spread[k * d + q];
        for (var q = 0; q < d; q++) pooled[q] /= total;

        var raw = new double[spread.Length];
        var populated = 0;
        var populatedSum = 0.0;
        for (var k = 0; k < clusters; k++)
        {
            if (n[k] > 0) populated++;
            for (var q = 0; q < d; q++)
            {
                var shrunk = Math.Max((n[k] * (double)spread[k * d + q] + PriorTokens * pooled[q]) / (n[k] + PriorTokens), pooled[q] * MinRelativeSpread);
                raw[k * d + q] = 1 / (shrunk + epsilon);
                if (n[k] > 0) populatedSum += raw[k * d + q];
            }
        }
        var clipAt = populatedSum / (populated * d) * clipMultiple;

        var featureSum = new double[d];
        var allSum = 0.0;
        for (var k = 0; k < clusters; k++)
        {
            if (!(n[k] > 0)) continue;
            for (var q = 0; q < d; q++)
            {
                raw[k * d + q] = Math.Min(raw[k * d + q], clipAt);
                featureSum[q] += raw[k * d + q];
                allSum += raw[k * d + q];
            }
        }
        for (var k = 0; k < clusters; k++)
            for (var q = 0; q < d; q++)
            {
                var mean = normalisation == AcNormalisation.PerFeature ? featureSum[q] / populated : allSum / (populated * d);
                weights[k * d + q] = n[k] > 0 ? (float)(raw[k * d + q] / mean) : 1f;
            }
        return weights;
    }
}
