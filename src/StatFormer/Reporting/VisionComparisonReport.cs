using System.Globalization;
using StatFormer.Vision.Experiments;

namespace StatFormer.Reporting;

/// <summary>The plots, tables and prose of a vision comparison (`vision compare`, the demo's vision part).</summary>
public static class VisionComparisonReport
{
    public const string ExampleGridFileName = "adversarial_examples.png";
    public const string MetricFileName = "elliptical_metric_per_layer.png";
    public const string CollapseFileName = "representation_collapse.png";
    public const string RoutingFileName = "routing_per_moe_layer.png";

    /// <summary>The expert-load heatmap of an MoE variant's first seed.</summary>
    public static string ExpertLoadFileName(string variant) => $"expert_load_{variant}.png";

    /// <summary>The last MoE layer's expert × class heatmap of an MoE variant's first seed.</summary>
    public static string ClassConfusionFileName(string variant) => $"class_confusion_{variant}.png";

    /// <summary>The robust-accuracy plot of one attack.</summary>
    public static string RobustnessFileName(string attack) => $"robust_accuracy_{attack}.png";

    /// <summary>Writes the plots into <paramref name="outDir"/> and returns their file names.</summary>
    public static IReadOnlyList<string> WritePlots(string outDir, IReadOnlyList<VisionVariantAggregate> variants, VisionExampleGrid? grid, IReadOnlyList<string> classNames)
    {
        var files = new List<string>();
        foreach (var attack in variants[0].Attacks.Select(a => a.Attack))
        {
            var series = variants.Select(v => (v.Variant, Curve: v.Attacks.FirstOrDefault(a => a.Attack == attack))).Where(x => x.Curve is not null)
                .Select(x => new Series(x.Variant, [0, .. x.Curve!.Points.Select(p => p.Epsilon * 255)],
                    [100 * VariantClean(variants, x.Variant).Mean, .. x.Curve.Points.Select(p => 100 * p.RobustAccuracy.Mean)],
                    [100 * VariantClean(variants, x.Variant).Std, .. x.Curve.Points.Select(p => 100 * p.RobustAccuracy.Std)])).ToList();
            var file = RobustnessFileName(attack);
            Plots.LineChart(Path.Combine(outDir, file), $"Robust accuracy under {attack} (mean ± std over seeds; ε = 0: clean)", "ε × 255", "accuracy (%)", series);
            files.Add(file);
        }
        var vits = variants.Where(v => v.Layers.Count > 0).ToList();
        var elliptical = vits.Where(v => v.Layers.Any(l => l.MetricMean is not null)).ToList();
        if (elliptical.Count > 0)
        {
            var series = elliptical.SelectMany(v => new[]
            {
                LayerSeries($"{v.Variant} mean m", v, l => l.MetricMean),
                LayerSeries($"{v.Variant} std of m over coordinates", v, l => l.MetricStd),
            }).ToList();
            Plots.LineChart(Path.Combine(outDir, MetricFileName), "Elliptical metric m per layer (m = 1: plain softmax attention)", "layer", "m", series);
            files.Add(MetricFileName);
        }
        if (vits.Count > 0)
        {
            Plots.LineChart(Path.Combine(outDir, CollapseFileName), "Representation collapse: mean pairwise cosine of token states", "layer", "cosine similarity",
                vits.Select(v => LayerSeries(v.Variant, v, l => l.RepresentationCollapse)).ToList());
            files.Add(CollapseFileName);
        }
        if (grid is not null)
        {
            VisionPlots.ExampleGrid(Path.Combine(outDir, ExampleGridFileName),
                $"{grid.Attack} at ε = {Epsilon(grid.Epsilon)}: true label, then each model's prediction on its own adversarial image",
                grid.Clean, grid.Labels, grid.Columns.Select(c => (c.Variant, c.Adversarial, c.AdversarialPredictions)).ToList(), classNames);
            files.Add(ExampleGridFileName);
        }
        return files;
    }

    /// <summary>
    /// The MoE variants' routing plots: purity and NMI of the top-1 expert against the image class per MoE layer and the
    /// NMI between consecutive MoE layers (mean ± std over seeds, one chart), then per variant its first seed's expert
    /// load per layer and last-layer expert × class table (expert ids are arbitrary per run, so those are not averaged).
    /// Returns the file names; none without MoE variants.
    /// </summary>
    public static IReadOnlyList<string> WriteRoutingPlots(string outDir, IReadOnlyList<VisionVariantAggregate> variants, IReadOnlyList<VisionRunSummary> runs)
    {
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(runs);
        var moe = variants.Where(v => v.RoutingLayers is { Count: > 0 }).ToList();
        if (moe.Count == 0) return [];
        var series = moe.SelectMany(v =>
        {
            var layers = v.RoutingLayers!;
            var between = layers.Where(l => l.StabilityNmiToNext is not null).ToList();
            var lines = new List<Series>
            {
                new($"{v.Variant} class purity", layers.Select(l => (double)l.MoeLayer).ToList(), layers.Select(l => l.ClassPurity.Mean).ToList(), layers.Select(l => l.ClassPurity.Std).ToList()),
                new($"{v.Variant} class NMI", layers.Select(l => (double)l.MoeLayer).ToList(), layers.Select(l => l.ClassNmi.Mean).ToList(), layers.Select(l => l.ClassNmi.Std).ToList()),
            };
            if (between.Count > 0)
                lines.Add(new Series($"{v.Variant} NMI with the next MoE layer", between.Select(l => l.MoeLayer + 0.5).ToList(),
                    between.Select(l => l.StabilityNmiToNext!.Mean).ToList(), between.Select(l => l.StabilityNmiToNext!.Std).ToList()));
            return lines;
        }).ToList();
        var files = new List<string>();
        Plots.LineChart(Path.Combine(outDir, RoutingFileName), "Routing vs image class per MoE layer, and between consecutive MoE layers (mean ± std over seeds)",
            "MoE layer", "purity / NMI", series);
        files.Add(RoutingFileName);
        foreach (var variant in moe)
        {
            if (runs.FirstOrDefault(r => r.Variant == variant.Variant && r.Routing is not null) is not { } first) continue;
            var load = ExpertLoadFileName(variant.Variant);
            MoePlots.ExpertLoadHeatmap(Path.Combine(outDir, load), first.Routing!, $"{variant.Variant}: fraction of top-k assignments per expert (seed {first.Seed})");
            files.Add(load);
            var confusion = ClassConfusionFileName(variant.Variant);
            MoePlots.TopicConfusionHeatmap(Path.Combine(outDir, confusion), first.Routing!.Layers[^1],
                $"{variant.Variant}: last MoE layer's top-1 expert vs image class (seed {first.Seed})", labels: "class");
            files.Add(confusion);
        }
        return files;
    }

    private static MeanStd VariantClean(IReadOnlyList<VisionVariantAggregate> variants, string variant) => variants.First(v => v.Variant == variant).CleanAccuracy;

    private static Series LayerSeries(string label, VisionVariantAggregate variant, Func<VisionLayerAggregate, MeanStd?> value)
    {
        var layers = variant.Layers.Where(l => value(l) is not null).ToList();
        return new Series(label, layers.Select(l => (double)l.Layer).ToList(), layers.Select(l => value(l)!.Mean).ToList(), layers.Select(l => value(l)!.Std).ToList());
    }

    /// <summary>The main table: one row per variant; clean accuracy, then each attack at each ε (accuracy %, mean ± std over seeds).</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) Table(VisionComparisonSummary summary)
    {
        var first = summary.Variants[0];
        var header = new List<string> { "variant", "params", "clean %" };
        header.AddRange(first.Attacks.SelectMany(a => a.Points.Select(p => $"{a.Attack} {Epsilon(p.Epsilon)} %")));
        if (first.WorstCase is { } worstHeader) header.AddRange(worstHeader.Select(p => $"worst {Epsilon(p.Epsilon)} %"));
        header.Add("train img/s");
        var rows = summary.Variants.Select(v =>
        {
            var row = new List<string> { v.Variant, v.Params.ToString("N0", CultureInfo.InvariantCulture), Percent(v.CleanAccuracy) };
            row.AddRange(v.Attacks.SelectMany(a => a.Points.Select(p => Percent(p.RobustAccuracy))));
            if (v.WorstCase is { } worst) row.AddRange(worst.Select(p => Percent(p.RobustAccuracy)));
            row.Add(v.ImagesPerSecond.Format(0));
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (header, rows);
    }

    /// <summary>The routing table of the MoE variants (printed by the CLI, in report.md); null without MoE variants.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)? RoutingTable(VisionComparisonSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return RoutingAggregate.Table(summary.Variants.Select(v => (v.Variant, v.Routing)), "class");
    }

    /// <summary>Writes report.md beside the summary.</summary>
    public static void Write(VisionComparisonSummary summary)
    {
        var options = summary.Options.Run;
        var attack = options.Eval.Attack;
        var report = new MarkdownReport($"Vision comparison: {string.Join(" vs ", summary.Variants.Select(v => v.Variant))}");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Data: {summary.Data} ({summary.Classes} classes, {summary.TrainImages} train / {summary.TestImages} test images). Seeds: {string.Join(", ", summary.Seeds)}. " +
            $"Every variant of a seed saw the same batches, augmentations and step budget ({options.Train.Steps} steps of {options.Data.BatchSize} images), " +
            $"and every model was attacked with the same random draws (attack seed {attack.Seed}) on the same {summary.Runs[0].Robustness.Images} test images (a class-stratified subset drawn from the attack seed); " +
            $"clean accuracy is on all {summary.TestImages} test images."));
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"ε is in {(attack.NormalisedEpsilon ? "the model's normalised input units (as in the authors' tables; pixel ε = ε·std per channel, no [0, 1] clip)" : "pixel units of images in [0, 1] (the model normalises inside)")}; " +
            $"attacks use the {(attack.Labels == Vision.Robustness.AttackLabels.True ? "true labels" : "model's own predictions (as the authors' scripts do)")}. " +
            $"PGD: {attack.PgdSteps} steps of {attack.PgdStepFraction.ToString("G3", CultureInfo.InvariantCulture)}·ε; SPSA: {attack.SpsaIterations} iterations × {attack.SpsaSamples} samples; " +
            $"APGD: {attack.ApgdIterations} iterations; Square: {attack.SquareQueries} queries."));
        var (header, rows) = Table(summary);
        report.Table(header, rows);
        if (RoutingTable(summary) is { } routing)
        {
            report.Heading("Routing diagnostics (whole test set, mean over MoE layers, mean ± std over seeds)");
            report.Paragraph(RoutingAggregate.Explanation("the image's class (every token the layer routes, the class token included, carries its image's label)"));
            report.Table(routing.Header, routing.Rows);
            report.Table(["variant", "MoE layer", "load CV", "router entropy / log E", "class purity", "class NMI", "NMI with the next MoE layer"],
                summary.Variants.Where(v => v.RoutingLayers is not null).SelectMany(v => v.RoutingLayers!.Select(l => (IReadOnlyList<string>)
                [
                    v.Variant, l.MoeLayer.ToString(CultureInfo.InvariantCulture), l.LoadCv.Format(3), l.RouterEntropyNormalized.Format(3),
                    l.ClassPurity.Format(3), l.ClassNmi.Format(3), l.StabilityNmiToNext?.Format(3) ?? "-",
                ])).ToList());
        }
        var estimators = summary.Variants.Where(v => v.EvalEstimator != "none").Select(v => $"{v.Variant}: {v.EvalEstimator}").ToList();
        if (estimators.Count > 0)
            report.Paragraph("Elliptical estimator at evaluation and attack time — " + string.Join("; ", estimators) +
                ". Every elliptical model was trained with the mean (sequence) estimator; `elliptical-median` is the same training evaluated with the median, the authors' attack-time choice (a train/test mismatch; docs/vision.md).");
        var gradientFree = summary.Runs.SelectMany(r => r.Robustness.Gaps).ToList();
        if (gradientFree.Count > 0)
            report.Paragraph("Gradient-free vs gradient attacks: when a gradient-free attack (SPSA, Square) reaches clearly lower accuracy than every gradient attack at the same ε, the gradients are masked. " +
                string.Join("; ", summary.Variants.Select(v => $"{v.Variant}: largest gap {summary.Runs.Where(r => r.Variant == v.Variant).SelectMany(r => r.Robustness.Gaps).Select(g => g.Gap).DefaultIfEmpty(0).Max() * 100:F1} points")) + ".");
        VisionCorruptionReport.Write(report, summary);
        foreach (var plot in summary.Plots) report.Image(plot, plot);
        report.Paragraph("Per run (seed): summary.json, metrics.jsonl, checkpoint.bin, learning_curve.png and robust_accuracy.png in each `<variant>-seed<k>/` folder.");
        report.Save(summary.Report);
    }

    internal static string Percent(MeanStd fraction) => new MeanStd(100 * fraction.Mean, 100 * fraction.Std, fraction.N).Format(1);

    internal static string Epsilon(double epsilon)
    {
        var k = epsilon * 255;
        return Math.Abs(k - Math.Round(k)) < 1e-9 ? $"{Math.Round(k).ToString(CultureInfo.InvariantCulture)}/255" : epsilon.ToString("G4", CultureInfo.InvariantCulture);
    }
}
