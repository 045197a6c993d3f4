using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// The adaptive-clustering feature weights of ACMoE (Nielsen et al., ICLR 2025): for every cluster (the
/// previous MoE layer's top-1 expert) and feature, the inverse of the cluster's mean absolute deviation
/// along that feature, so features along which a cluster is tight get large weights.
/// </summary>
/// <remarks>
/// Exactly, for each populated cluster k and feature q:
/// μ_kq = mean_{i∈k} x_iq; MAD_kq = mean_{i∈k} |x_iq − μ_kq|; w_kq = 1/(MAD_kq + ε);
/// w is clipped at clipMultiple × (mean of w over populated clusters and all features);
/// then divided by its per-feature mean over populated clusters (so every feature averages 1).
/// Clusters with no tokens get rows of 1 (neutral) and take part in neither mean. The authors' code lets an
/// empty cluster (below the largest label) enter both means with MAD 0, i.e. w = 1/ε = 1e4, which raises the
/// clip threshold and shrinks the populated clusters' normalised weights — a batch-composition artefact we
/// do not reproduce. Computed without gradient (the weights are constants to the router).
/// </remarks>
public static class AdaptiveClusteringWeights
{
    /// <param name="x">[N,d] token features (detached inside).</param>
    /// <param name="labels">[N] int64 cluster labels in [0, clusters).</param>
    /// <param name="clusters">K, the number of clusters (experts of the previous MoE layer).</param>
    /// <returns>[K,d] float32 weights, requires_grad false.</returns>
    public static Tensor Compute(Tensor x, Tensor labels, int clusters, double epsilon = 1e-4, double clipMultiple = 10)
    {
        if (x.dim() != 2) throw new ArgumentException($"x must be [N,d] (got [{string.Join(",", x.shape)}])");
        if (labels.dim() != 1 || labels.shape[0] != x.shape[0])
            throw new ArgumentException($"labels must be [N] with N = {x.shape[0]} (got [{string.Join(",", labels.shape)}])");
        if (x.shape[0] < 1) throw new ArgumentException("the AC weights need at least one token");
        if (clusters < 1) throw new ArgumentException($"clusters must be at least 1 (got {clusters})");
        if (!(epsilon > 0)) throw new ArgumentException($"epsilon must be positive (got {epsilon})");

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var features = x.detach().to(ScalarType.Float32);
        var d = features.shape[1];
        var index = labels.to(ScalarType.Int64);
        var counts = torch.bincount(index, minlength: clusters);
        if (counts.shape[0] != clusters)
            throw new ArgumentException($"cluster labels must lie in [0, {clusters}) (found label {counts.shape[0] - 1})");

        var populated = counts.gt(0).unsqueeze(1);                              // [K,1]
        var size = counts.clamp_min(1).to(ScalarType.Float32).unsqueeze(1);      // [K,1], 1 for empty rows (their sums are 0)
        var mean = torch.zeros(clusters, d, dtype: ScalarType.Float32, device: x.device).index_add(0, index, features, 1.0) / size;
        var deviation = (features - mean.index_select(0, index)).abs();
        var mad = torch.zeros(clusters, d, dtype: ScalarType.Float32, device: x.device).index_add(0, index, deviation, 1.0) / size;
        var weights = (mad + epsilon).reciprocal();

        var mask = populated.to(ScalarType.Float32);                             // [K,1]
        var populatedCount = mask.sum();                                         // ≥ 1: N ≥ 1
        var clipAt = (weights * mask).sum() / (populatedCount * d) * clipMultiple;
        weights = torch.minimum(weights, clipAt);
        var featureMean = (weights * mask).sum(0, keepdim: true) / populatedCount;  // [1,d]
        weights = torch.where(populated, weights / featureMean, torch.ones_like(weights));
        return weights.MoveToOuterDisposeScope();
    }
}
