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

    /// <summary>The weights of one batch's clusters: <see cref="FromStatistics"/> of <see cref="ClusterStatistics"/>.</summary>
    /// <param name="x">[N,d] token features (detached inside).</param>
    /// <param name="labels">[N] int64 cluster labels in [0, clusters).</param>
    /// <param name="clusters">K, the number of clusters (experts of the previous MoE layer).</param>
    /// <returns>[K,d] float32 weights, requires_grad false.</returns>
    public static Tensor Compute(Tensor x, Tensor labels, int clusters, double epsilon = 1e-4, double clipMultiple = 10,
        AcNormalisation normalisation = AcNormalisation.PerFeature)
    {
        using var scope = torch.NewDisposeScope();
        var (counts, mad) = ClusterStatistics(x, labels, clusters);
        return FromStatistics(counts, mad, epsilon, clipMultiple, normalisation).MoveToOuterDisposeScope();
    }

    /// <summary>Per-cluster token counts [K] and mean absolute deviations about the cluster mean [K,d] (float32, no gradient; 0 for empty clusters).</summary>
    public static (Tensor Counts, Tensor Mad) ClusterStatistics(Tensor x, Tensor labels, int clusters)
    {
        if (x.dim() != 2) throw new ArgumentException($"x must be [N,d] (got [{string.Join(",", x.shape)}])");
        if (labels.dim() != 1 || labels.shape[0] != x.shape[0])
            throw new ArgumentException($"labels must be [N] with N = {x.shape[0]} (got [{string.Join(",", labels.shape)}])");
        if (x.shape[0] < 1) throw new ArgumentException("the AC weights need at least one token");
        if (clusters < 1) throw new ArgumentException($"clusters must be at least 1 (got {clusters})");

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var features = x.detach().to(ScalarType.Float32);
        var d = features.shape[1];
        var index = labels.to(ScalarType.Int64);
        var counts = torch.bincount(index, minlength: clusters);
        if (counts.shape[0] != clusters)
            throw new ArgumentException($"cluster labels must lie in [0, {clusters}) (found label {counts.shape[0] - 1})");
        var size = counts.clamp_min(1).to(ScalarType.Float32).unsqueeze(1);      // [K,1], 1 for empty rows (their sums are 0)
        var mean = torch.zeros(clusters, d, dtype: ScalarType.Float32, device: x.device).index_add(0, index, features, 1.0) / size;
        var deviation = (features - mean.index_select(0, index)).abs();
        var mad = torch.zeros(clusters, d, dtype: ScalarType.Float32, device: x.device).index_add(0, index, deviation, 1.0) / size;
        return (counts.to(ScalarType.Float32).MoveToOuterDisposeScope(), mad.MoveToOuterDisposeScope());
    }

    /// <summary>The weights from per-cluster counts (any non-negative reals, e.g. running averages) and spreads.</summary>
    /// <param name="counts">[K] token counts (0 = empty cluster).</param>
    /// <param name="mad">[K,d] mean absolute deviations.</param>
    /// <returns>[K,d] float32 weights, requires_grad false; all ones when every count is 0.</returns>
    public static Tensor FromStatistics(Tensor counts, Tensor mad, double epsilon = 1e-4, double clipMultiple = 10,
        AcNormalisation normalisation = AcNormalisation.PerFeature)
    {
        if (!Enum.IsDefined(normalisation)) throw new ArgumentException($"unknown AC normalisation {normalisation}");
        if (mad.dim() != 2) throw new ArgumentException($"the spreads must be [K,d] (got [{string.Join(",", mad.shape)}])");
        if (counts.dim() != 1 || counts.shape[0] != mad.shape[0])
            throw new ArgumentException($"the counts must be [K] with K = {mad.shape[0]} (got [{string.Join(",", counts.shape)}])");
        if (!(epsilon > 0)) throw new ArgumentException($"epsilon must be positive (got {epsilon})");

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var n = counts.to(ScalarType.Float32).unsqueeze(1);                     // [K,1]
        var spread = mad.to(ScalarType.Float32);
        var d = spread.shape[1];
        var total = n.sum();
        if (total.item<float>() <= 0) return torch.ones_like(spread).MoveToOuterDisposeScope();

        var pooled = (n * spread).sum(0, keepdim: true) / total;                 // [1,d]
        var shrunk = torch.maximum((n * spread + PriorTokens * pooled) / (n + PriorTokens), pooled * MinRelativeSpread);
        var weights = (shrunk + epsilon).reciprocal();

        var populated = n.gt(0);                                                 // [K,1]
        var mask = populated.to(ScalarType.Float32);
        var populatedCount = mask.sum();                                         // ≥ 1: total > 0
        var clipAt = (weights * mask).sum() / (populatedCount * d) * clipMultiple;
        weights = torch.minimum(weights, clipAt);
        var mean = normalisation == AcNormalisation.PerFeature
            ? (weights * mask).sum(0, keepdim: true) / populatedCount              // [1,d]
            : (weights * mask).sum() / (populatedCount * d);                       // []
        weights = torch.where(populated, weights / mean, torch.ones_like(weights));
        return weights.MoveToOuterDisposeScope();
    }
}
