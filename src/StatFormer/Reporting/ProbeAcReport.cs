using System.Globalization;
using StatFormer.Probes.AdaptiveClustering;

namespace StatFormer.Reporting;

/// <summary>The AC-router probe's findings, report.md, probe.json and plots.</summary>
public static class ProbeAcReport
{
    /// <summary>Per noise level and base router: routing NMI and task MSE of the AC version against the base; then the AC weights against the true subsets.</summary>
    public static IReadOnlyList<ProbeFinding> Findings(AcProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var findings = new List<ProbeFinding>();
        foreach (var c in result.Cells)
        {
            var where = $"ac-{c.BaseRouter} vs {c.BaseRouter}, non-informative noise σ = {Fmt(c.Noise)}";
            findings.Add(new ProbeFinding($"AC router, {where}",
                "routing that follows the true clusters more closely (higher routing–cluster NMI: the AC weights emphasise each cluster's tight features)",
                $"NMI {c.BaseRouter} {c.BaseNmi.Format(3)}, ac-{c.BaseRouter} {c.AcNmi.Format(3)} ({c.BaseNmi.N} seeds)",
                ProbeVerdicts.Of(c.NmiGain)));
            findings.Add(new ProbeFinding($"AC router, {where}",
                "a lower task loss (the target depends on the cluster)",
                $"MSE {c.BaseRouter} {c.BaseMse.Format(4)}, ac-{c.BaseRouter} {c.AcMse.Format(4)} ({c.BaseMse.N} seeds)",
                ProbeVerdicts.Of(c.MseImprovement)));
        }
        foreach (var c in result.Cells.Where(c => c.WeightAuroc is not null && c.Noise == result.Options.NoiseLevels[0]))
        {
            var auroc = c.WeightAuroc!;
            findings.Add(new ProbeFinding($"AC weights (ac-{c.BaseRouter}, σ = {Fmt(c.Noise)})",
                "large weights on each cluster's informative features (AUROC of weight vs the true subset > 0.5)",
                $"AUROC {auroc.Format(3)} ({auroc.N} seeds)",
                ProbeVerdicts.Of(new MeanStd(auroc.Mean - 0.5, auroc.Std, auroc.N))));
        }
        return findings;
    }

    /// <summary>Writes probe.json, report.md, loss-vs-steps.png and ac-weights.png / true-subsets.png into <paramref name="outDir"/>.</summary>
    public static void Write(AcProbeResult result, string outDir)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(outDir);
        var findings = Findings(result);
        JsonOutput.WriteFile(Path.Combine(outDir, "probe.json"), new { result, findings = findings.Select(f => f.Line).ToArray() });
        var noise = result.Options.NoiseLevels[^1];
        var series = result.Runs.Where(r => r.Noise == noise).GroupBy(r => r.Router).Select(g =>
        {
            var curves = g.Select(r => r.LossCurve).ToList();
            var points = curves.Min(c => c.Count);
            var steps = Enumerable.Range(1, points).Select(i => (double)(i * result.Options.EvalEvery)).ToList();
            var stats = Enumerable.Range(0, points).Select(i => MeanStd.Of(curves.Select(c => c[i]))).ToList();
            return new Series(g.Key, steps, stats.Select(m => m.Mean).ToList(), stats.Select(m => m.Std).ToList());
        }).ToList();
        Plots.LineChart(Path.Combine(outDir, "loss-vs-steps.png"), $"Clusters on feature subsets: held-out MSE vs steps (σ = {Fmt(noise)})", "step", "MSE", series, logY: series.All(s => s.Y.All(y => y > 0)));
        if (result.WeightMap is { } map)
        {
            var rows = map.Weights.Length;
            var features = map.Weights[0].Length;
            var labels = Enumerable.Range(0, rows).Select(e => map.MajorityClusters[e] >= 0 ? $"expert {e} (cluster {map.MajorityClusters[e]})" : $"expert {e} (no tokens)").ToList();
            var columns = Enumerable.Range(0, features).Select(q => q.ToString(CultureInfo.InvariantCulture)).ToList();
            var weights = new double[rows, features];
            var truth = new double[rows, features];
            for (var e = 0; e < rows; e++)
                for (var q = 0; q < features; q++)
                {
                    weights[e, q] = map.Weights[e][q];
                    truth[e, q] = map.TrueSubsets[e][q] ? 1 : 0;
                }
            Plots.Heatmap(Path.Combine(outDir, "ac-weights.png"), $"{map.Router} feature weights per cluster (seed 0)", weights, labels, columns, "AC weight", "feature", "cluster (layer-0 expert)");
            Plots.Heatmap(Path.Combine(outDir, "true-subsets.png"), "True informative features of each expert's majority cluster", truth, labels, columns, "informative", "feature", "cluster (layer-0 expert)");
        }

        var o = result.Options;
        var report = new MarkdownReport("AC-router probe: clusters on feature subsets");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"K = {o.Clusters} clusters (= experts), F = {o.Features} features, {o.SubsetSize} informative per cluster (σ {o.TightSpread}), non-informative σ ∈ {{{string.Join(", ", o.NoiseLevels)}}}; " +
            $"two residual MoE layers (top-{o.TopK}, expert hidden {o.ExpertHidden}), {o.Steps} Adam steps of {o.BatchSize} tokens, {o.Seeds} seeds; held-out {o.EvalTokens} tokens. {result.Seconds:F0} s. Generator and model: docs/probes.md."));
        report.Heading("Findings");
        report.Paragraph(string.Join("\n", findings.Select(f => "- " + f.Line)));
        report.Heading("Results");
        report.Table(["noise σ", "router", "MSE base", "MSE AC", "NMI base", "NMI AC", "AC weight AUROC"],
            result.Cells.Select(c => (IReadOnlyList<string>)
            [
                Fmt(c.Noise), c.BaseRouter, c.BaseMse.Format(4), c.AcMse.Format(4), c.BaseNmi.Format(3), c.AcNmi.Format(3), c.WeightAuroc?.Format(3) ?? "–",
            ]));
        report.Image("held-out MSE vs steps", "loss-vs-steps.png");
        if (result.WeightMap is not null)
        {
            report.Image("AC feature weights per cluster", "ac-weights.png");
            report.Image("true informative features", "true-subsets.png");
        }
        report.Save(Path.Combine(outDir, "report.md"));
    }

    private static string Fmt(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
