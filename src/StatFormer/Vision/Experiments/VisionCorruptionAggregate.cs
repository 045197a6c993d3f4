using StatFormer.Reporting;
using StatFormer.Vision.Corruptions;

namespace StatFormer.Vision.Experiments;

/// <summary>
/// One variant's corruption evaluation over the seeds (mean ± sample std): accuracy and ECE per corruption and
/// severity, accuracy per severity averaged over the corruptions, CE and relative CE per corruption and their means
/// (mCE) against the reference variant's run of the same seed (same images, corruption draws and training batches), and
/// the max-softmax OOD AUROCs.
/// </summary>
public sealed record VisionCorruptionAggregate(string Set, int Images, string Reference, MeanStd CleanAccuracy, MeanStd CleanEce,
    MeanStd? MeanAccuracy, MeanStd? MeanEce, MeanStd? MeanCe, MeanStd? RelativeMeanCe, IReadOnlyList<VisionSeverityMean> BySeverity,
    IReadOnlyList<VisionCorruptionCurveAggregate> Corruptions, IReadOnlyList<VisionOodAggregate> Ood)
{
    /// <param name="runs">The variant's runs.</param>
    /// <param name="references">The reference variant's runs; each run is compared with the reference run of its seed.</param>
    /// <returns>Null when the runs have no corruption results.</returns>
    public static VisionCorruptionAggregate? Of(IReadOnlyList<VisionRunSummary> runs, IReadOnlyList<VisionRunSummary> references, string reference)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(references);
        if (runs.Count == 0 || runs.Any(r => r.Corruption is null)) return null;
        var results = runs.Select(r => r.Corruption!).ToList();
        var errors = runs.Select(r => references.FirstOrDefault(x => x.Seed == r.Seed)?.Corruption is { } paired
            ? CorruptionErrors.Of(r.Corruption!, paired, reference) : null).ToList();
        var first = results[0];
        var severities = first.Corruptions.Count > 0 ? first.Corruptions[0].Severities.Select(s => s.Severity).ToList() : [];
        var curves = first.Corruptions.Select((curve, c) => new VisionCorruptionCurveAggregate(curve.Corruption, curve.Extra,
            curve.Severities.Select((point, s) => new VisionSeverityAggregate(point.Severity,
                MeanStd.Of(results.Select(r => r.Corruptions[c].Severities[s].Accuracy)), MeanStd.Of(results.Select(r => r.Corruptions[c].Severities[s].Ece)))).ToList(),
            MeanStd.Of(results.Select(r => r.Corruptions[c].Severities.Average(p => p.Accuracy))),
            MeanStd.OfAll(errors.Select(e => e?.Corruptions[c].Ce)), MeanStd.OfAll(errors.Select(e => e?.Corruptions[c].RelativeCe)))).ToList();
        var bySeverity = severities.Select((severity, s) => new VisionSeverityMean(severity,
            MeanStd.Of(results.Select(r => r.Corruptions.Average(c => c.Severities[s].Accuracy))))).ToList();
        var ood = first.Ood.Select((o, i) => new VisionOodAggregate(o.Shifted, MeanStd.Of(results.Select(r => r.Ood[i].Auroc)))).ToList();
        return new VisionCorruptionAggregate(first.Set, first.Images, reference, MeanStd.Of(results.Select(r => r.CleanAccuracy)),
            MeanStd.Of(results.Select(r => r.CleanEce)), MeanStd.OfAll(results.Select(r => r.MeanAccuracy)), MeanStd.OfAll(results.Select(r => r.MeanEce)),
            MeanStd.OfAll(errors.Select(e => e?.MeanCe)), MeanStd.OfAll(errors.Select(e => e?.RelativeMeanCe)), bySeverity, curves, ood);
    }
}

/// <param name="MeanAccuracy">Accuracy averaged over the severities.</param>
/// <param name="Ce">CE (%) against the reference; null when a seed has no reference run or the reference made no error.</param>
public sealed record VisionCorruptionCurveAggregate(string Corruption, bool Extra, IReadOnlyList<VisionSeverityAggregate> Severities, MeanStd MeanAccuracy,
    MeanStd? Ce, MeanStd? RelativeCe);

public sealed record VisionSeverityAggregate(int Severity, MeanStd Accuracy, MeanStd Ece);

/// <summary>Accuracy at one severity averaged over the corruptions.</summary>
public sealed record VisionSeverityMean(int Severity, MeanStd Accuracy);

public sealed record VisionOodAggregate(string Shifted, MeanStd Auroc);
