using System.Globalization;
using StatFormer.Vision.Corruptions;

namespace StatFormer.Cli.Commands;

/// <summary>The console tables of a corruption evaluation (`vision train`, `vision eval`).</summary>
internal static class VisionCorruptionOutput
{
    /// <summary>Accuracy per corruption and severity, mean ECE per corruption, the CE against a reference when given, then the OOD AUROCs.</summary>
    public static void Print(CorruptionResult result, CorruptionErrorResult? errors = null)
    {
        var severities = result.Corruptions.Count > 0 ? result.Corruptions[0].Severities.Select(s => s.Severity).ToList() : [];
        var header = new List<string> { "corruption" };
        header.AddRange(severities.Select(s => $"s{s} acc"));
        header.Add("mean ECE");
        if (errors is not null) header.AddRange(["CE %", "rel. CE %"]);
        var rows = new List<IReadOnlyList<string>>
        {
            (IReadOnlyList<string>)["clean", .. severities.Select(_ => VisionTrainCommand.Percent(result.CleanAccuracy)), Number(result.CleanEce), .. errors is null ? Array.Empty<string>() : ["", ""]],
        };
        foreach (var (curve, i) in result.Corruptions.Select((c, i) => (c, i)))
        {
            var row = new List<string> { curve.Extra ? $"{curve.Corruption} (extra)" : curve.Corruption };
            row.AddRange(curve.Severities.Select(p => VisionTrainCommand.Percent(p.Accuracy)));
            row.Add(Number(curve.Severities.Average(p => p.Ece)));
            if (errors is not null) row.AddRange([Ce(errors.Corruptions[i].Ce), Ce(errors.Corruptions[i].RelativeCe)]);
            rows.Add(row);
        }
        Output.Table($"corruptions ({result.Set}) on {result.Images} test images (seed {result.Seed})", header, rows);
        if (errors is not null)
            Output.Line($"mCE {Ce(errors.MeanCe)} %, relative mCE {Ce(errors.RelativeMeanCe)} % (reference: {errors.Reference} = 100; CIFAR-10-C extras not in the mean)");
        foreach (var ood in result.Ood)
            Output.Line($"max-softmax OOD detection, clean vs {ood.Shifted}: AUROC {Number(ood.Auroc)} ({ood.InImages} vs {ood.OutImages} images)");
        foreach (var left in result.LeftOut) Output.Line($"not built: {left.Corruption} ({left.Reason})");
    }

    private static string Number(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static string Ce(double? value) => value is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "-";
}
