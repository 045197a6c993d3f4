using System.Globalization;
using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Experiments;

namespace StatFormer.Reporting;

/// <summary>The corruption part of a vision comparison: plots, the grid of corrupted examples and the report.md tables.</summary>
public static class VisionCorruptionReport
{
    public const string AccuracyFileName = "corruption_accuracy.png";
    public const string SeverityFileName = "corruption_severity.png";
    public const string ExampleGridFileName = "corruption_examples.png";

    /// <summary>Writes the corruption plots into <paramref name="outDir"/> and returns their file names; none when no variant has corruption results.</summary>
    public static IReadOnlyList<string> WritePlots(string outDir, IReadOnlyList<VisionVariantAggregate> variants, CorruptionExamples? examples, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var withCorruption = variants.Where(v => v.Corruption is not null).ToList();
        if (withCorruption.Count == 0) return [];
        var files = new List<string>();
        var corruptions = withCorruption[0].Corruption!.Corruptions;
        var values = new double[withCorruption.Count, corruptions.Count + 1];
        for (var v = 0; v < withCorruption.Count; v++)
        {
            var aggregate = withCorruption[v].Corruption!;
            values[v, 0] = 100 * aggregate.CleanAccuracy.Mean;
            for (var c = 0; c < corruptions.Count; c++) values[v, c + 1] = 100 * aggregate.Corruptions[c].MeanAccuracy.Mean;
        }
        Plots.Heatmap(Path.Combine(outDir, AccuracyFileName), "Accuracy per corruption (mean over severities and seeds)", values,
            withCorruption.Select(v => v.Variant).ToList(), ["clean", .. corruptions.Select(c => c.Corruption)], "accuracy (%)", "corruption", "variant");
        files.Add(AccuracyFileName);
        Plots.LineChart(Path.Combine(outDir, SeverityFileName), "Accuracy against severity, mean over corruptions (mean ± std over seeds; 0 = clean)",
            "severity", "accuracy (%)", withCorruption.Select(v =>
            {
                var a = v.Corruption!;
                return new Series(v.Variant, [0, .. a.BySeverity.Select(p => (double)p.Severity)], [100 * a.CleanAccuracy.Mean, .. a.BySeverity.Select(p => 100 * p.Accuracy.Mean)],
                    [100 * a.CleanAccuracy.Std, .. a.BySeverity.Select(p => 100 * p.Accuracy.Std)]);
            }).ToList());
        files.Add(SeverityFileName);
        if (examples is not null && examples.Corruptions.Count > 0)
        {
            var rows = examples.Corruptions.Count;
            using var clean = examples.Clean.expand(rows, -1, -1, -1).contiguous();
            VisionPlots.ExampleGrid(Path.Combine(outDir, ExampleGridFileName),
                $"One test image ({Name(classNames, examples.Label)}) under each corruption and severity; {examples.Model}'s predictions",
                clean, Enumerable.Repeat(examples.Label, rows).ToList(),
                examples.Severities.Select((s, i) => ($"severity {s}", examples.Images[i], examples.Predictions[i])).ToList(), classNames, examples.Corruptions);
            files.Add(ExampleGridFileName);
        }
        return files;
    }

    private static string Name(IReadOnlyList<string> classNames, long c) => c >= 0 && c < classNames.Count ? classNames[(int)c] : c.ToString(CultureInfo.InvariantCulture);

    /// <summary>The summary table: per variant clean and mean corrupted accuracy, mCE, relative mCE, ECE and the OOD AUROCs; null without corruption results.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)? Table(IReadOnlyList<VisionVariantAggregate> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var withCorruption = variants.Where(v => v.Corruption is not null).ToList();
        if (withCorruption.Count == 0) return null;
        var first = withCorruption[0].Corruption!;
        var header = new List<string> { "variant", "clean %", "corrupted %", "mCE", "relative mCE", "clean ECE", "corrupted ECE" };
        header.AddRange(first.Ood.Select(o => $"AUROC vs {o.Shifted}"));
        var rows = withCorruption.Select(v =>
        {
            var a = v.Corruption!;
            var row = new List<string>
            {
                v.Variant, VisionComparisonReport.Percent(a.CleanAccuracy), a.MeanAccuracy is { } m ? VisionComparisonReport.Percent(m) : "-",
                a.MeanCe?.Format(1) ?? "-", a.RelativeMeanCe?.Format(1) ?? "-", a.CleanEce.Format(3), a.MeanEce?.Format(3) ?? "-",
            };
            row.AddRange(a.Ood.Select(o => o.Auroc.Format(3)));
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (header, rows);
    }

    /// <summary>Appends the corruption section to a comparison's report.</summary>
    public static void Write(MarkdownReport report, VisionComparisonSummary summary)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(summary);
        if (Table(summary.Variants) is not { } table) return;
        var options = summary.Options.Run.Eval.Corruption;
        var first = summary.Variants.First(v => v.Corruption is not null).Corruption!;
        var run = summary.Runs.First(r => r.Corruption is not null).Corruption!;
        report.Heading($"Common corruptions ({first.Set})");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Every model was evaluated on the same class-stratified subset of {first.Images} test images (seed {options.Seed}), corrupted with the same draws " +
            $"(one generator per corruption and severity). Accuracy is mean ± std over seeds. CE_c = 100·Σ_s E_s,c / Σ_s E^ref_s,c and relative CE_c = " +
            $"100·Σ_s (E_s,c − E_clean) / Σ_s (E^ref_s,c − E^ref_clean), E the top-1 error; mCE and relative mCE average them over the benchmark's corruptions " +
            $"(CIFAR-10-C's extras are reported, not averaged). The reference is {first.Reference} (= 100), paired by seed. ECE: 15 equal-width confidence bins. " +
            $"AUROC: max-softmax score, the clean subset as in-distribution against the most severe corruptions (and MNIST digits where asked), ties counting ½ — " +
            $"our stand-in for ImageNet-A/O (docs/vision.md)."));
        report.Table(table.Header, table.Rows);
        var variants = summary.Variants.Where(v => v.Corruption is not null).ToList();
        report.Heading("Accuracy per corruption (mean over severities; mean ± std over seeds)");
        report.Table(["corruption", .. variants.Select(v => v.Variant)], first.Corruptions.Select((c, i) => (IReadOnlyList<string>)
            [c.Extra ? $"{c.Corruption} (extra)" : c.Corruption, .. variants.Select(v => VisionComparisonReport.Percent(v.Corruption!.Corruptions[i].MeanAccuracy))]).ToList());
        report.Heading($"CE per corruption (% of {first.Reference}'s)");
        report.Table(["corruption", .. variants.Select(v => v.Variant)], first.Corruptions.Select((c, i) => (IReadOnlyList<string>)
            [c.Extra ? $"{c.Corruption} (extra)" : c.Corruption, .. variants.Select(v => v.Corruption!.Corruptions[i].Ce?.Format(1) ?? "-")]).ToList());
        if (run.LeftOut.Count > 0)
            report.Paragraph("Not built: " + string.Join("; ", run.LeftOut.Select(l => $"{l.Corruption} ({l.Reason})")) + ".");
    }
}
