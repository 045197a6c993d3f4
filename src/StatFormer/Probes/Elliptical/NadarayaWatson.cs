namespace StatFormer.Probes.Elliptical;

/// <summary>
/// The Nadaraya–Watson estimator the paper reads attention as (research spec elliptical.md §1.1): f̂(q) = Σ_j v_j K_j / Σ_j K_j
/// with a Gaussian kernel K_j = exp(−Σ_d w_d ‖e(q)_d − e(k_j)_d‖² / 2σ²) on the key features e (two per coordinate d, so
/// ‖·‖² = 2 − 2cos(θ_d − θ'_d) for unit features). w = 1 everywhere is the spherical neighbourhood;
/// w = the indicator of the relevant coordinates is the ideal ellipse (stretched infinitely along the flat coordinates).
/// The probe uses both, with the bandwidth that is best on the test sequences, as the reference of what the theory says the
/// task offers, independent of training.
/// </summary>
public static class NadarayaWatson
{
    /// <summary>The bandwidths σ the reference estimators choose from.</summary>
    public static IReadOnlyList<double> Bandwidths { get; } = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0];

    public static double Estimate(KernelRegressionSequence sequence, IReadOnlyList<double> weights, double bandwidth)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(weights);
        if (!(bandwidth > 0)) throw new ArgumentException($"bandwidth must be positive (got {bandwidth})", nameof(bandwidth));
        var d = sequence.KeyDim;
        var logits = new double[sequence.Pairs];
        for (var j = 0; j < sequence.Pairs; j++)
        {
            var distance = 0.0;
            for (var c = 0; c < 2 * d; c++)
            {
                var delta = sequence.QueryFeatures[c] - sequence.Features[j * 2 * d + c];
                distance += weights[c / 2] * delta * delta;
            }
            logits[j] = -distance / (2 * bandwidth * bandwidth);
        }
        // Shifted by the largest logit, so a narrow kernel far from every key does not underflow to 0/0.
        var max = logits.Max();
        double numerator = 0, denominator = 0;
        for (var j = 0; j < sequence.Pairs; j++)
        {
            var k = Math.Exp(logits[j] - max);
            numerator += k * sequence.Values[j];
            denominator += k;
        }
        return numerator / denominator;
    }

    /// <summary>The smallest MSE against the targets over <see cref="Bandwidths"/>, with the metric each sequence's <paramref name="weightsOf"/> gives.</summary>
    public static (double Mse, double Bandwidth) BestMse(IReadOnlyList<KernelRegressionSequence> sequences, Func<KernelRegressionSequence, IReadOnlyList<double>> weightsOf)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(weightsOf);
        return Bandwidths.Select(h => (Mse: sequences.Average(s => Math.Pow(Estimate(s, weightsOf(s), h) - s.Target, 2)), Bandwidth: h)).MinBy(x => x.Mse);
    }

    /// <summary>w = 1 on every coordinate: the spherical kernel.</summary>
    public static IReadOnlyList<double> Spherical(KernelRegressionSequence sequence) => Enumerable.Repeat(1.0, sequence.KeyDim).ToArray();

    /// <summary>w = 1 on the relevant coordinates, 0 on the flat ones: the ideal elliptical kernel.</summary>
    public static IReadOnlyList<double> IdealEllipse(KernelRegressionSequence sequence) => sequence.Relevant.Select(r => r ? 1.0 : 0.0).ToArray();
}
