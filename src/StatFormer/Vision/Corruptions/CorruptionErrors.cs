namespace StatFormer.Vision.Corruptions;

/// <summary>
/// Hendrycks &amp; Dietterich's corruption error against a reference model evaluated on the same corrupted images:
/// CE_c = 100·Σ_s E_{s,c} / Σ_s E^ref_{s,c} and relative CE_c = 100·Σ_s (E_{s,c} − E_clean) / Σ_s (E^ref_{s,c} − E^ref_clean),
/// E the top-1 error; mCE and relative mCE are their means over the benchmark's corruptions (CIFAR-10-C's four extras
/// are reported, not averaged in). A corruption whose reference sum is 0 has no CE (null) and is left out of the means.
/// </summary>
public static class CorruptionErrors
{
    /// <exception cref="ArgumentException">The two results are not of the same images and corruptions.</exception>
    public static CorruptionErrorResult Of(CorruptionResult model, CorruptionResult reference, string referenceName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(reference);
        if (model.Set != reference.Set || model.Images != reference.Images || model.Seed != reference.Seed
            || !model.Corruptions.Select(Key).SequenceEqual(reference.Corruptions.Select(Key)))
            throw new ArgumentException("the reference was evaluated on other images, corruptions or severities", nameof(reference));
        var errors = model.Corruptions.Zip(reference.Corruptions, (mine, theirs) =>
        {
            var sum = mine.Severities.Sum(p => 1 - p.Accuracy);
            var referenceSum = theirs.Severities.Sum(p => 1 - p.Accuracy);
            var relative = mine.Severities.Sum(p => (1 - p.Accuracy) - (1 - model.CleanAccuracy));
            var referenceRelative = theirs.Severities.Sum(p => (1 - p.Accuracy) - (1 - reference.CleanAccuracy));
            return new CorruptionError(mine.Corruption, mine.Extra, referenceSum > 0 ? 100 * sum / referenceSum : null,
                Math.Abs(referenceRelative) > 1e-9 ? 100 * relative / referenceRelative : null);
        }).ToList();
        var counted = errors.Where(e => !e.Extra).ToList();
        double? Mean(IEnumerable<double?> values)
        {
            var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
            return present.Count > 0 ? present.Average() : null;
        }
        return new CorruptionErrorResult(referenceName, errors, Mean(counted.Select(e => e.Ce)), Mean(counted.Select(e => e.RelativeCe)));
    }

    private static string Key(CorruptionCurve curve) => $"{curve.Corruption}:{string.Join(",", curve.Severities.Select(s => s.Severity))}";
}

/// <param name="Reference">The reference model (its CE is 100 by definition).</param>
public sealed record CorruptionErrorResult(string Reference, IReadOnlyList<CorruptionError> Corruptions, double? MeanCe, double? RelativeMeanCe);

/// <param name="Ce">CE in % of the reference's; null when the reference made no error on this corruption.</param>
/// <param name="RelativeCe">Relative CE in %; null when the reference's corrupted errors sum to its clean error (within 1e-9).</param>
public sealed record CorruptionError(string Corruption, bool Extra, double? Ce, double? RelativeCe);
