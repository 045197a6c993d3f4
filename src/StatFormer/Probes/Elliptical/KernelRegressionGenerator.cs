using StatFormer.Data;

namespace StatFormer.Probes.Elliptical;

/// <summary>
/// One sequence of the in-context kernel-regression task: <see cref="Pairs"/> (key, value) pairs and a query.
/// A key is D angles θ_d ∈ [−π, π), seen by the model as the 2D features (cos θ_d, sin θ_d); v = f(θ) + noise with
/// f(θ) = Σ_{d∈R} a_d sin(θ_d + φ_d) / √|R|, so f varies along the relevant coordinates R only and is flat along the others
/// (research spec elliptical.md §1.1, Figure 2). Unit-norm features per coordinate make the dot product a stationary kernel,
/// Σ_d cos(θ_d − θ'_d): the ‖k‖² term of §1.1 cancels, so softmax attention is exactly a Nadaraya–Watson estimator here.
/// </summary>
/// <param name="Angles">[pairs, D] row-major key angles (what f is a function of).</param>
/// <param name="Features">[pairs, 2D] row-major key features (cos θ_0, sin θ_0, cos θ_1, …): what the model sees.</param>
/// <param name="Values">[pairs] noisy values.</param>
/// <param name="QueryAngles">[D] the query key.</param>
/// <param name="QueryFeatures">[2D] its features.</param>
/// <param name="Target">f(query), without noise: what an estimator of E[v | k = query] should return.</param>
/// <param name="Relevant">[D] true for the coordinates f depends on.</param>
/// <param name="Relevance">[D] E_θ |∂f/∂θ_d| over the key distribution: (2/π)|a_d|/√|R| on relevant coordinates (the mean of |cos| over a
/// period is 2/π), 0 elsewhere — the coordinate-wise variability the paper's m should track.</param>
/// <param name="Contaminated">[pairs] true for the pairs whose irrelevant key features were replaced by outliers.</param>
public sealed record KernelRegressionSequence(int Pairs, int KeyDim, float[] Angles, float[] Features, float[] Values, float[] QueryAngles, float[] QueryFeatures,
    double Target, bool[] Relevant, double[] Relevance, bool[] Contaminated, double[] Amplitudes, double[] Phases)
{
    /// <summary>f at the angles <paramref name="angles"/> (length D): the generator's function of this sequence.</summary>
    public double Function(ReadOnlySpan<float> angles)
    {
        var relevantCount = Relevant.Count(r => r);
        var sum = 0.0;
        for (var d = 0; d < KeyDim; d++)
            if (Relevant[d]) sum += Amplitudes[d] * Math.Sin(angles[d] + Phases[d]);
        return sum / Math.Sqrt(relevantCount);
    }
}

/// <summary>
/// Draws <see cref="KernelRegressionSequence"/>s. Per sequence: a new relevant subset R of <c>relevant</c> coordinates
/// (uniform among the D), amplitudes a_d ~ N(0,1) and phases φ_d ~ U[0,2π) — so no fixed projection can know in advance
/// which coordinates matter, and a per-sequence metric (Elliptical Attention's m) has something to find. Key angles are
/// uniform. Value noise is N(0, noise²). With contamination c, each pair is, with probability c, contaminated: the features
/// of its irrelevant coordinates become a random direction of norm <see cref="OutlierScale"/> instead of a unit vector. Its
/// value stays f(θ) + noise, which is still correct (f ignores those coordinates), so a metric that stretches along them
/// keeps the pair as an ordinary neighbour while for a spherical one its score is dominated by the outlier features.
/// The query is never contaminated.
/// </summary>
public static class KernelRegressionGenerator
{
    /// <summary>The norm of a contaminated coordinate's features (uncontaminated ones have norm 1).</summary>
    public const double OutlierScale = 3.0;

    public static KernelRegressionSequence Sample(Random rng, int keyDim, int pairs, int relevant, double noise, double contamination)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (keyDim < 1) throw new ArgumentException($"keyDim must be at least 1 (got {keyDim})", nameof(keyDim));
        if (pairs < 1) throw new ArgumentException($"pairs must be at least 1 (got {pairs})", nameof(pairs));
        if (relevant < 1 || relevant > keyDim) throw new ArgumentException($"relevant must be in [1, {keyDim}] (got {relevant})", nameof(relevant));
        var order = Enumerable.Range(0, keyDim).ToArray();
        rng.Shuffle(order);
        var isRelevant = new bool[keyDim];
        foreach (var d in order.Take(relevant)) isRelevant[d] = true;
        var amplitudes = new double[keyDim];
        var phases = new double[keyDim];
        var relevance = new double[keyDim];
        for (var d = 0; d < keyDim; d++)
        {
            if (!isRelevant[d]) continue;
            amplitudes[d] = rng.NextStandardNormal();
            phases[d] = 2 * Math.PI * rng.NextDouble();
            relevance[d] = 2 / Math.PI * Math.Abs(amplitudes[d]) / Math.Sqrt(relevant);
        }
        var angles = new float[pairs * keyDim];
        var features = new float[pairs * 2 * keyDim];
        var values = new float[pairs];
        var contaminated = new bool[pairs];
        var sequence = new KernelRegressionSequence(pairs, keyDim, angles, features, values, new float[keyDim], new float[2 * keyDim], 0,
            isRelevant, relevance, contaminated, amplitudes, phases);
        for (var i = 0; i < pairs; i++)
        {
            var angle = angles.AsSpan(i * keyDim, keyDim);
            var feature = features.AsSpan(i * 2 * keyDim, 2 * keyDim);
            DrawKey(rng, angle, feature);
            contaminated[i] = contamination > 0 && rng.NextDouble() < contamination;
            if (contaminated[i])
            {
                for (var d = 0; d < keyDim; d++)
                {
                    if (isRelevant[d]) continue;
                    var direction = 2 * Math.PI * rng.NextDouble();
                    feature[2 * d] = (float)(OutlierScale * Math.Cos(direction));
                    feature[2 * d + 1] = (float)(OutlierScale * Math.Sin(direction));
                }
            }
            values[i] = (float)(sequence.Function(angle) + noise * rng.NextStandardNormal());
        }
        DrawKey(rng, sequence.QueryAngles, sequence.QueryFeatures);
        return sequence with { Target = sequence.Function(sequence.QueryAngles) };
    }

    private static void DrawKey(Random rng, Span<float> angles, Span<float> features)
    {
        for (var d = 0; d < angles.Length; d++)
        {
            angles[d] = (float)(Math.PI * (2 * rng.NextDouble() - 1));
            features[2 * d] = MathF.Cos(angles[d]);
            features[2 * d + 1] = MathF.Sin(angles[d]);
        }
    }
}
