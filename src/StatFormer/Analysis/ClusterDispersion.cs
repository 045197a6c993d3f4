using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Analysis;

/// <summary>
/// Streaming within-cluster dispersion of points in a feature space (e.g. the router's scoring space, clustered by
/// top-1 expert). Keeps per cluster the count, the feature sum and the sum of squared norms (in double), so batches
/// can be added one at a time and the result equals that of one batch with all the points.
/// <see cref="WithinToTotalRatio"/> = Σ_i ‖f_i − μ_{c_i}‖² / Σ_i ‖f_i − μ‖²: 0 = every cluster is a single point,
/// 1 = clusters are no tighter than the whole set.
/// The feature values may change from batch to batch (a model under training), their dimension may not.
/// </summary>
public sealed class ClusterDispersion
{
    private readonly long[] _count;
    private double[,]? _sum;        // [clusters, dims], of f − _shift
    private readonly double[] _sumSquaredNorm;  // per cluster Σ ‖f − _shift‖²
    // Sums are taken about the first batch's mean rather than the origin: the dispersions are shift-invariant, and
    // this avoids the cancellation of Σ‖f‖² − N‖μ‖² when the features sit far from the origin.
    private double[]? _shift;

    public ClusterDispersion(int clusters)
    {
        if (clusters < 1) throw new ArgumentException($"need at least one cluster, got {clusters}.", nameof(clusters));
        Clusters = clusters;
        _count = new long[clusters];
        _sumSquaredNorm = new double[clusters];
    }

    public int Clusters { get; }

    /// <summary>Feature dimension, fixed by the first batch; 0 before any batch.</summary>
    public int Dimensions => _shift?.Length ?? 0;

    /// <summary>Points added so far.</summary>
    public long Count => _count.Sum();

    /// <summary>Checks a batch without adding it; throws what <see cref="Add"/> would throw.</summary>
    public void Validate(Tensor features, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.dim() != 2) throw new ArgumentException($"features must be [N, r], got [{string.Join(", ", features.shape)}].", nameof(features));
        if (!features.is_floating_point()) throw new ArgumentException($"features must be floating point, got {features.dtype}.", nameof(features));
        if (features.shape[1] < 1) throw new ArgumentException("features have no dimensions.", nameof(features));
        if (_shift is not null && features.shape[1] != _shift.Length)
            throw new ArgumentException($"features have {features.shape[1]} dimensions, earlier batches had {_shift.Length}.", nameof(features));
        if (labels.dim() != 1 || labels.shape[0] != features.shape[0])
            throw new ArgumentException($"labels must be [{features.shape[0]}] to match features, got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.dtype != ScalarType.Int64) throw new ArgumentException($"labels must be int64, got {labels.dtype}.", nameof(labels));
        if (labels.shape[0] > 0)
        {
            using var scope = torch.NewDisposeScope();
            long min = labels.min().item<long>(), max = labels.max().item<long>();
            if (min < 0 || max >= Clusters)
                throw new ArgumentException($"labels must lie in [0, {Clusters}), got values in [{min}, {max}].", nameof(labels));
        }
    }

    /// <param name="features">[N, r] floating point, any device.</param>
    /// <param name="labels">[N] int64 cluster of each point, in [0, clusters).</param>
    public void Add(Tensor features, Tensor labels)
    {
        Validate(features, labels);
        long n = features.shape[0];
        if (n == 0) return;
        using var scope = torch.NewDisposeScope();
        var f = features.detach().cpu().to_type(ScalarType.Float64);
        var c = labels.cpu();
        if (_shift is null)
        {
            _shift = f.mean(new long[] { 0 }).data<double>().ToArray();
            _sum = new double[Clusters, _shift.Length];
        }
        int dims = _shift.Length;
        var centred = f - torch.tensor(_shift, ScalarType.Float64, device: CPU);
        var sums = torch.zeros(Clusters, dims, ScalarType.Float64, device: CPU).index_add(0, c, centred, 1.0);
        var squaredNorms = torch.zeros(Clusters, ScalarType.Float64, device: CPU).index_add(0, c, centred.square().sum(new long[] { 1 }), 1.0);
        var counts = torch.bincount(c, minlength: Clusters);

        var sumValues = sums.data<double>().ToArray();
        var squaredValues = squaredNorms.data<double>().ToArray();
        var countValues = counts.data<long>().ToArray();
        for (int k = 0; k < Clusters; k++)
        {
            _count[k] += countValues[k];
            _sumSquaredNorm[k] += squaredValues[k];
            for (int d = 0; d < dims; d++) _sum![k, d] += sumValues[k * dims + d];
        }
    }

    /// <summary>
    /// Σ_i ‖f_i − μ_{c_i}‖² / Σ_i ‖f_i − μ‖². NaN when the total dispersion is zero (no points, or all points equal).
    /// </summary>
    public double WithinToTotalRatio
    {
        get
        {
            if (_sum is null) return double.NaN;
            int dims = _shift!.Length;
            double within = 0, totalSquaredNorm = 0;
            var totalSum = new double[dims];
            long n = 0;
            for (int k = 0; k < Clusters; k++)
            {
                if (_count[k] == 0) continue;
                within += ClusterScatter(k);
                totalSquaredNorm += _sumSquaredNorm[k];
                n += _count[k];
                for (int d = 0; d < dims; d++) totalSum[d] += _sum[k, d];
            }
            double total = totalSquaredNorm - SquaredNorm(totalSum) / n;
            if (!(total > 0)) return double.NaN;
            return Math.Clamp(within / total, 0.0, 1.0);
        }
    }

    /// <summary>Per cluster, mean of ‖f_i − μ_k‖² over its points; NaN for clusters that received no points.</summary>
    public double[] PerClusterMeanSquaredDistance
    {
        get
        {
            var result = new double[Clusters];
            for (int k = 0; k < Clusters; k++)
                result[k] = _count[k] == 0 ? double.NaN : ClusterScatter(k) / _count[k];
            return result;
        }
    }

    // Σ_{i∈k} ‖f_i − μ_k‖² = Σ ‖f_i‖² − ‖Σ f_i‖² / n_k (about the shift), clamped at 0 against rounding.
    private double ClusterScatter(int k)
    {
        int dims = _shift!.Length;
        double squaredSumNorm = 0;
        for (int d = 0; d < dims; d++) squaredSumNorm += _sum![k, d] * _sum[k, d];
        return Math.Max(0.0, _sumSquaredNorm[k] - squaredSumNorm / _count[k]);
    }

    private static double SquaredNorm(double[] v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        return s;
    }
}
