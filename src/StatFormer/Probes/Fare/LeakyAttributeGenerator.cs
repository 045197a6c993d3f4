using StatFormer.Data;

namespace StatFormer.Probes.Fare;

/// <summary>
/// Samples of the FARE probe: x ∈ R^F, a class y (the task) and a sensitive group g with attribute z ∈ R², independent of y.
/// </summary>
/// <param name="Inputs">[N, F] row-major.</param>
/// <param name="Classes">[N] y.</param>
/// <param name="Groups">[N] g.</param>
/// <param name="Sensitive">[N, 2] row-major z.</param>
public sealed record LeakySamples(float[] Inputs, int[] Classes, int[] Groups, float[] Sensitive)
{
    public int Count => Classes.Length;
}

/// <summary>
/// The FARE probe's data: a sensitive attribute that a contrastive encoder picks up from its negatives. Fixed per seed: a
/// sign pattern P[y] ∈ {±1}^(F−2) per class. Per sample: y and g uniform and independent; z = (cos α, sin α) with
/// α = 2πg/G + N(0, <see cref="AngleJitter"/>²) (z is continuous, as FARE assumes, but clustered by group); and
/// x = (classScale·P[y] + ε₁, leak·z + ε₂), ε ~ N(0, I). The last two features are z scaled by <c>leak</c>: the dominant
/// variation of x, invariant to the augmentation, so instance discrimination against negatives of other groups is easiest
/// through z, and an encoder trained with all negatives alike keeps z linearly recoverable. Against negatives of the same
/// group, z tells nothing apart (up to the small jitter), which is the conditional sampling P_{Y|Z=z} that FARE's attention
/// approximates by re-weighting the batch (research spec fare.md §1, §2.4).
/// <para>
/// Ideal attention (<see cref="IdealAttention"/>): negatives drawn from P_{Y|Z=z_i}. With z clustered by group, within the
/// batch that is the uniform distribution over the other members of i's group: p*_ij = 1[g_j = g_i] / (n_{g_i} − 1), j ≠ i.
/// </para>
/// </summary>
public static class LeakyAttributeGenerator
{
    /// <summary>Standard deviation (radians) of z's angle within a group.</summary>
    public const double AngleJitter = 0.05;

    public static float[][] ClassPatterns(Random rng, int classes, int features) =>
        Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, features - 2).Select(_ => rng.Next(2) == 0 ? -1f : 1f).ToArray()).ToArray();

    public static LeakySamples Sample(Random rng, float[][] patterns, int groups, int count, double classScale, double leak)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(patterns);
        if (groups < 2) throw new ArgumentException($"groups must be at least 2 (got {groups})", nameof(groups));
        var f = patterns[0].Length + 2;
        var x = new float[count * f];
        var y = new int[count];
        var g = new int[count];
        var z = new float[count * 2];
        for (var i = 0; i < count; i++)
        {
            y[i] = rng.Next(patterns.Length);
            g[i] = rng.Next(groups);
            var angle = 2 * Math.PI * g[i] / groups + AngleJitter * rng.NextStandardNormal();
            z[2 * i] = (float)Math.Cos(angle);
            z[2 * i + 1] = (float)Math.Sin(angle);
            for (var q = 0; q < f - 2; q++) x[i * f + q] = (float)(classScale * patterns[y[i]][q] + rng.NextStandardNormal());
            x[i * f + f - 2] = (float)(leak * z[2 * i] + rng.NextStandardNormal());
            x[i * f + f - 1] = (float)(leak * z[2 * i + 1] + rng.NextStandardNormal());
        }
        return new LeakySamples(x, y, g, z);
    }

    /// <summary>The ideal attention [B, B] (row i: anchor i) over a batch with groups <paramref name="groups"/>; a row whose group has no other member is all 0.</summary>
    public static double[,] IdealAttention(IReadOnlyList<int> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var b = groups.Count;
        var p = new double[b, b];
        for (var i = 0; i < b; i++)
        {
            var peers = Enumerable.Range(0, b).Count(j => j != i && groups[j] == groups[i]);
            if (peers == 0) continue;
            for (var j = 0; j < b; j++)
                if (j != i && groups[j] == groups[i]) p[i, j] = 1.0 / peers;
        }
        return p;
    }
}
