using System.Globalization;
using StatFormer.Vision.Experiments;

namespace StatFormer.Reporting;

/// <summary>The plots, tables and prose of a vision comparison (`vision compare`, the demo's vision part).</summary>
public static class VisionComparisonReport
{
    public const string ExampleGridFileName = "adversarial_examples.png";
    public const string MetricFileName = "elliptical_metric_per_layer.png";
    public const string CollapseFileName = "representation_collapse.png";

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

    /// <summary>Writes report.md beside the summary.</summary>
    public static void Write(VisionComparisonSummary summary)
    {
        var options = summary.Options.Run;
        var attack = options.Eval.Attack;
        var report = new MarkdownReport($"Vision comparison: {string.Join(" vs ", summary.Variants.Select(v => v.Variant))}");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Data: {summary.Data} ({summary.Classes} classes, {summary.TrainImages} train / {summary.TestImages} test images). Seeds: {string.Join(", ", summary.Seeds)}. " +
            $"Every variant of a seed saw the same batches, augmentations and step budget ({options.Train.Steps} steps of {options.Data.BatchSize} images), " +
            $"and every model was attacked with the same random draws (attack seed {attack.Seed}) on the first {summary.Runs[0].Robustness.Images} test images; " +
            $"clean accuracy is on all {summary.TestImages} test images."));
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"ε is in {(attack.NormalisedEpsilon ? "the model's normalised input units (as in the authors' tables; pixel ε = ε·std per channel, no [0, 1] clip)" : "pixel units of images in [0, 1] (the model normalises inside)")}; " +
            $"attacks use the {(attack.Labels == Vision.Robustness.AttackLabels.True ? "true labels" : "model's own predictions (as the authors' scripts do)")}. " +
            $"PGD: {attack.PgdSteps} steps of {attack.PgdStepFraction.ToString("G3", CultureInfo.InvariantCulture)}·ε; SPSA: {attack.SpsaIterations} iterations × {attack.SpsaSamples} samples; " +
            $"APGD: {attack.ApgdIterations} iterations; Square: {attack.SquareQueries} queries."));
        var (header, rows) = Table(summary);
        report.Table(header, rows);
        var estimators = summary.Variants.Where(v => v.EvalEstimator != "none").Select(v => $"{v.Variant}: {v.EvalEstimator}").ToList();
        if (estimators.Count > 0)
            report.Paragraph("Elliptical estimator at evaluation and attack time — " + string.Join("; ", estimators) +
                ". Every elliptical model was trained with the mean (sequence) estimator; `elliptical-median` is the same training evaluated with the median, the authors' attack-time choice (a train/test mismatch; docs/vision.md).");
        var gradientFree = summary.Runs.SelectMany(r => r.Robustness.Gaps).ToList();
        if (gradientFree.Count > 0)
            report.Paragraph("Gradient-free vs gradient attacks: when a gradient-free attack (SPSA, Square) reaches clearly lower accuracy than every gradient attack at the same ε, the gradients are masked. " +
                string.Join("; ", summary.Variants.Select(v => $"{v.Variant}: largest gap {summary.Runs.Where(r => r.Variant == v.Variant).SelectMany(r => r.Robustness.Gaps).Select(g => g.Gap).DefaultIfEmpty(0).Max() * 100:F1} points")) + ".");
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
