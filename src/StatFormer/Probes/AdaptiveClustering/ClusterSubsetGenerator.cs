using StatFormer.Data;

namespace StatFormer.Probes.AdaptiveClustering;

/// <summary>
/// The ground truth of a clusters-on-feature-subsets problem (the COSA setting the AC router is derived from; research spec
/// acmoe.md §1.1): K clusters, each tight along its own subset S_k of the F features and spread along the rest, and a
/// cluster-specific target.
/// </summary>
/// <param name="Informative">[K, F] true where feature q is in cluster k's subset S_k.</param>
/// <param name="Means">[K, F] cluster centres on their informative features (0 elsewhere).</param>
/// <param name="Slopes">[K, F] the target's coefficients on the informative features (0 elsewhere).</param>
/// <param name="Offsets">[K] the target's per-cluster offset.</param>
public sealed record ClusterSubsetProblem(int Clusters, int Features, bool[,] Informative, double[,] Means, double[,] Slopes, double[] Offsets,
    double TightSpread, double NoiseSpread)
{
    /// <summary>y = c_k + Σ_{q∈S_k} β_kq (x_q − μ_kq): what the model should predict for a token of cluster k.</summary>
    public double Target(int cluster, ReadOnlySpan<float> x)
    {
        var y = Offsets[cluster];
        for (var q = 0; q < Features; q++)
            if (Informative[cluster, q]) y += Slopes[cluster, q] * (x[q] - Means[cluster, q]);
        return y;
    }
}

/// <summary>A batch of tokens: features [N, F] row-major, their true clusters [N] and targets [N].</summary>
public sealed record ClusterSubsetBatch(float[] Features, int[] Clusters, float[] Targets)
{
    public int Count => Clusters.Length;
}

/// <summary>
/// Draws <see cref="ClusterSubsetProblem"/>s and their tokens. Problem: each cluster's subset is <c>subsetSize</c> features drawn
/// uniformly (subsets of different clusters may overlap); centres μ_kq ~ N(0, <see cref="CentreSpread"/>²), slopes β_kq ~ N(0,1)
/// and offsets c_k ~ N(0, <see cref="OffsetSpread"/>²). Token of cluster k (uniform over clusters): x_q ~ N(μ_kq, tight²) on S_k,
/// x_q ~ N(0, noise²) elsewhere — the non-informative features carry no information on the cluster, whatever the noise level.
/// </summary>
public static class ClusterSubsetGenerator
{
    public const double CentreSpread = 1.5;
    public const double OffsetSpread = 1.0;

    public static ClusterSubsetProblem Problem(Random rng, int clusters, int features, int subsetSize, double tightSpread, double noiseSpread)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (clusters < 2) throw new ArgumentException($"clusters must be at least 2 (got {clusters})", nameof(clusters));
        if (subsetSize < 1 || subsetSize > features) throw new ArgumentException($"subsetSize must be in [1, {features}] (got {subsetSize})", nameof(subsetSize));
        var informative = new bool[clusters, features];
        var means = new double[clusters, features];
        var slopes = new double[clusters, features];
        var offsets = new double[clusters];
        for (var k = 0; k < clusters; k++)
        {
            var order = Enumerable.Range(0, features).ToArray();
            rng.Shuffle(order);
            foreach (var q in order.Take(subsetSize))
            {
                informative[k, q] = true;
                means[k, q] = CentreSpread * rng.NextStandardNormal();
                slopes[k, q] = rng.NextStandardNormal();
            }
            offsets[k] = OffsetSpread * rng.NextStandardNormal();
        }
        return new ClusterSubsetProblem(clusters, features, informative, means, slopes, offsets, tightSpread, noiseSpread);
    }

    public static ClusterSubsetBatch Tokens(Random rng, ClusterSubsetProblem problem, int count)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(problem);
        var f = problem.Features;
        var x = new float[count * f];
        var clusters = new int[count];
        var targets = new float[count];
        for (var i = 0; i < count; i++)
        {
            var k = rng.Next(problem.Clusters);
            clusters[i] = k;
            var row = x.AsSpan(i * f, f);
            for (var q = 0; q < f; q++)
                row[q] = (float)(problem.Informative[k, q]
                    ? problem.Means[k, q] + problem.TightSpread * rng.NextStandardNormal()
                    : problem.NoiseSpread * rng.NextStandardNormal());
            targets[i] = (float)problem.Target(k, row);
        }
        return new ClusterSubsetBatch(x, clusters, targets);
    }
}
