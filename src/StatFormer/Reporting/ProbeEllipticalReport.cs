using System.Globalization;
using ScottPlot;
using StatFormer.IO;
using StatFormer.Probes.Elliptical;

namespace StatFormer.Reporting;

/// <summary>The elliptical probe's findings, report.md, probe.json and plots.</summary>
public static class ProbeEllipticalReport
{
    /// <summary>One line per setting of the sweep (elliptical vs softmax MSE) and one for m against the true relevance.</summary>
    public static IReadOnlyList<ProbeFinding> Findings(EllipticalProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var findings = new List<ProbeFinding>();
        foreach (var cell in result.Cells)
        {
            var s = cell.Setting;
            var where = s.Sweep switch
            {
                "noise" => $"noise {Fmt(s.Noise)} (r = {s.Relevant} of {result.Options.KeyDim})",
                "contamination" => $"{Fmt(100 * s.Contamination)} % contaminated keys (r = {s.Relevant})",
                _ => $"r = {s.Relevant} of {result.Options.KeyDim} relevant coordinates, noise {Fmt(s.Noise)}",
            };
            findings.Add(new ProbeFinding($"elliptical, {where}",
                "a lower query-prediction MSE than softmax (stretching along flat coordinates lowers variance without bias)",
                $"MSE softmax {cell.SoftmaxMse.Format(4)}, elliptical {cell.EllipticalMse.Format(4)}: elliptical lower by {ProbeVerdicts.Pct(cell.RelativeImprovement)} ({cell.SoftmaxMse.N} seeds; " +
                $"kernel references: spherical {cell.SphericalKernelMse.Format(4)}, ideal ellipse {cell.IdealKernelMse.Format(4)}, context mean {cell.ContextMeanMse.Format(4)})",
                ProbeVerdicts.Of(cell.Improvement)));
        }
        var baseCell = result.Cells[0];
        findings.Add(new ProbeFinding("kernel regression itself (no training)",
            "the ideal elliptical Nadaraya–Watson kernel beats the spherical one at the base setting (the gain a perfect m would bring)",
            $"MSE spherical {baseCell.SphericalKernelMse.Format(4)}, ideal ellipse {baseCell.IdealKernelMse.Format(4)}, each at its best bandwidth ({baseCell.SphericalKernelMse.N} seeds)",
            ProbeVerdicts.Of(baseCell.ReferenceGain)));
        if (result.Cells[0].MetricAuroc is { } auroc)
            findings.Add(new ProbeFinding("elliptical m",
                "m larger on the coordinates f varies along (AUROC of m for relevant vs irrelevant coordinates > 0.5)",
                $"AUROC {auroc.Format(3)} ({auroc.N} seeds, base setting)",
                ProbeVerdicts.Of(new MeanStd(auroc.Mean - 0.5, auroc.Std, auroc.N))));
        return findings;
    }

    /// <summary>Writes probe.json (result and findings), report.md, mse-vs-relevant.png and m-vs-relevance.png into <paramref name="outDir"/>.</summary>
    public static void Write(EllipticalProbeResult result, string outDir)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(outDir);
        var findings = Findings(result);
        JsonOutput.WriteFile(Path.Combine(outDir, "probe.json"), new { result, findings = findings.Select(f => f.Line).ToArray() });
        var relevantCells = result.Cells.Where(c => c.Setting.Sweep == "relevant").ToList();
        Plots.LineChart(Path.Combine(outDir, "mse-vs-relevant.png"), "In-context kernel regression: query MSE vs relevant coordinates",
            "relevant coordinates r", "MSE against f(query)",
        [
            new Series("softmax", relevantCells.Select(c => (double)c.Setting.Relevant).ToList(), relevantCells.Select(c => c.SoftmaxMse.Mean).ToList(), relevantCells.Select(c => c.SoftmaxMse.Std).ToList()),
            new Series("elliptical", relevantCells.Select(c => (double)c.Setting.Relevant).ToList(), relevantCells.Select(c => c.EllipticalMse.Mean).ToList(), relevantCells.Select(c => c.EllipticalMse.Std).ToList()),
            new Series("NW spherical kernel", relevantCells.Select(c => (double)c.Setting.Relevant).ToList(), relevantCells.Select(c => c.SphericalKernelMse.Mean).ToList()),
            new Series("NW ideal ellipse", relevantCells.Select(c => (double)c.Setting.Relevant).ToList(), relevantCells.Select(c => c.IdealKernelMse.Mean).ToList()),
            new Series("context mean", relevantCells.Select(c => (double)c.Setting.Relevant).ToList(), relevantCells.Select(c => c.ContextMeanMse.Mean).ToList()),
        ]);
        if (result.MetricVsRelevance.Count > 0) MetricScatter(Path.Combine(outDir, "m-vs-relevance.png"), result.MetricVsRelevance);

        var report = new MarkdownReport("Elliptical probe: in-context kernel regression");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"D = {result.Options.KeyDim} key coordinates, {result.Options.Pairs} pairs per sequence, {result.Options.Steps} Adam steps of {result.Options.BatchSize} sequences, " +
            $"d_model {result.Options.DModel}, {result.Options.Heads} head(s), {result.Options.Seeds} seeds; MSE on {result.Options.EvalSequences} held-out sequences against the noiseless f(query). " +
            $"{result.Seconds:F0} s. Generator and model: docs/probes.md."));
        report.Heading("Findings");
        report.Paragraph(string.Join("\n", findings.Select(f => "- " + f.Line)));
        report.Heading("Sweep");
        report.Table(["sweep", "relevant", "noise", "contamination", "softmax MSE", "elliptical MSE", "elliptical lower by", "NW spherical", "NW ideal ellipse", "context mean", "m AUROC"],
            result.Cells.Select(c => (IReadOnlyList<string>)
            [
                c.Setting.Sweep, c.Setting.Relevant.ToString(CultureInfo.InvariantCulture), Fmt(c.Setting.Noise), Fmt(c.Setting.Contamination),
                c.SoftmaxMse.Format(4), c.EllipticalMse.Format(4), ProbeVerdicts.Pct(c.RelativeImprovement), c.SphericalKernelMse.Format(4), c.IdealKernelMse.Format(4), c.ContextMeanMse.Format(4), c.MetricAuroc?.Format(3) ?? "–",
            ]));
        report.Image("MSE vs relevant coordinates", "mse-vs-relevant.png");
        if (result.MetricVsRelevance.Count > 0) report.Image("m on each key coordinate vs its true relevance", "m-vs-relevance.png");
        report.Save(Path.Combine(outDir, "report.md"));
    }

    private static void MetricScatter(string path, IReadOnlyList<MetricPoint> points)
    {
        var plot = new Plot();
        plot.Title("Elliptical m (mapped to key coordinates) vs true relevance E|∂f/∂k_d|");
        plot.XLabel("true relevance of the coordinate");
        plot.YLabel("m seen from the coordinate");
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var (relevant, index) in new[] { (false, 0), (true, 1) })
        {
            var chosen = points.Where(p => p.Relevant == relevant).ToList();
            if (chosen.Count == 0) continue;
            var markers = plot.Add.Markers(chosen.Select(p => p.Relevance).ToArray(), chosen.Select(p => p.Metric).ToArray());
            markers.Color = palette.GetColor(index).WithAlpha(0.6);
            markers.MarkerSize = 5;
            markers.LegendText = relevant ? "relevant" : "irrelevant (f flat)";
        }
        plot.ShowLegend();
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(900, 600, ImageFormat.Png));
    }

    private static string Fmt(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
