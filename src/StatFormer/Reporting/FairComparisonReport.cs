using System.Globalization;
using StatFormer.Comparison;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Fairness.Models;
using StatFormer.IO;
using StatFormer.Options;

namespace StatFormer.Reporting;

/// <summary>
/// What a fair-method comparison shows: its results table (also printed by the CLI), report.md (with the paper's numbers
/// beside ours) and the plots — accuracy against bias, per-method 2-D embeddings of the first seed, and the training loss
/// curves — and the warning line for a run whose probes did not converge.
/// </summary>
public static class FairComparisonReport
{
    public const string TradeOffPlotFileName = "accuracy_vs_bias.png";
    public const string LossCurvesFileName = "loss_curves.png";

    /// <summary>FARE paper Table 1 (ColorMNIST, copied from spec §5): method → (accuracy %, ±, bias removal MSE, ±).</summary>
    public static IReadOnlyList<(string Method, string Row, double Accuracy, double AccuracyStd, double BiasRemoval, double BiasRemovalStd)> PaperTable1 { get; } =
    [
        ("infonce", "InfoNCE (Oord et al., 2018)", 84.1, 1.8, 48.8, 4.5),
        ("fair-infonce", "Fair-InfoNCE (Tsai et al. 2022)", 85.9, 0.4, 64.9, 5.1),
        ("cclk", "CCLK (Tsai et al. 2022), cosine kernel", 86.4, 0.9, 64.7, 3.9),
        ("fare", "FARE", 85.7, 0.9, 68.4, 4.3),
        ("sparse-fare", "SparseFARE (adjacent-bucket scheme)", 86.4, 1.3, 74.0, 3.8),
    ];

    /// <summary>FARE paper Table 2 (CelebA, target Attractive, sensitive Young + Male; no ± reported): row → (accuracy %, EO).</summary>
    public static IReadOnlyList<(string Row, double Accuracy, double EqualizedOdds)> PaperTable2 { get; } =
    [
        ("SimCLR (Chen et al., 2020)", 77.7, 39.6), ("CCLK-Cosine", 70.2, 22.4), ("CCLK-RBF", 69.9, 21.8), ("CCLK-Linear", 71.1, 21.1),
        ("CCLK-Polynomial", 71.0, 20.8), ("CCLK-Laplacian", 70.0, 20.8), ("FARE", 73.7, 23.5), ("SparseFARE", 70.4, 18.7),
    ];

    /// <summary>The bias value of an aggregate on the dataset's bias axis, and the axis label.</summary>
    public static (MeanStd? Value, string Label) Bias(FairMethodAggregate m, string biasMetric) => biasMetric switch
    {
        FairComparison.ZMseMetric => (m.ZMse, "bias removal: z-probe test MSE (higher = more removed)"),
        FairComparison.EqualizedOddsMetric => (m.EqualizedOdds, "equalized-odds gap ×100 (lower = fairer)"),
        _ => (m.ZProbeAccuracy, "z-group probe accuracy % (lower = more removed)"),
    };

    /// <summary>Draws the plots into <paramref name="outDir"/> and returns their file names, in the order the report shows them.</summary>
    /// <param name="dataName">The dataset's name, in the trade-off plot's title.</param>
    public static IReadOnlyList<string> WritePlots(string outDir, string dataName, IReadOnlyList<int> seeds, IReadOnlyList<FairMethodAggregate> methods,
        IReadOnlyList<FairRunSummary> runs, string biasMetric)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(runs);
        var written = new List<string>();
        string Plot(string fileName, Action<string> draw)
        {
            draw(Path.Combine(outDir, fileName));
            written.Add(fileName);
            return fileName;
        }

        var yLabel = Bias(methods[0], biasMetric).Label;
        var points = methods.Select(m => (m, bias: Bias(m, biasMetric).Value))
            .Where(p => p.bias is not null)
            .Select(p => new FairPlots.Point(p.m.Method, p.m.TargetAccuracy.Mean, p.m.TargetAccuracy.Std, p.bias!.Mean, p.bias.Std)).ToList();
        Plot(TradeOffPlotFileName, path => FairPlots.TradeOff(path,
            $"{dataName}: target accuracy vs bias (mean ± std over {seeds.Count} seed(s))", "target accuracy (%) of the linear probe", yLabel, points));

        // The 2-D representation of the first seed of every method, as its run wrote it.
        var firstSeed = seeds[0];
        foreach (var method in methods)
        {
            var path = Path.Combine(outDir, RunFolder.PerRunFolderName(method.Method, firstSeed), FairEmbeddingProjection.FileName);
            if (!File.Exists(path)) continue;
            var projection = System.Text.Json.JsonSerializer.Deserialize<FairEmbeddingProjection>(File.ReadAllText(path), JsonOutput.Options);
            if (projection is null) continue;
            Plot($"embedding_{method.Method}.png", p => projection.Plot(p,
                $"{method.Method}, seed {firstSeed}: test representations (PCA), coloured by z"));
        }

        // Training loss per epoch, mean ± std over seeds.
        var curves = methods.Select(m =>
        {
            var perSeed = runs.Where(r => r.Method == m.Method).Select(r => r.EpochTrainLoss).ToList();
            var epochs = perSeed.Min(l => l.Count);
            var stats = Enumerable.Range(0, epochs).Select(e => Stats.MeanStd(perSeed.Select(l => l[e]).ToList())).ToList();
            return new Series(m.Method, Enumerable.Range(1, epochs).Select(e => (double)e).ToList(), stats.Select(s => s.Mean).ToList(), stats.Select(s => s.Std).ToList());
        }).Where(s => s.X.Count > 0).ToList();
        if (curves.Count > 0)
            Plot(LossCurvesFileName, path => Plots.LineChart(path, "Training loss per epoch (mean ± std over seeds)", "epoch", "contrastive loss", curves));
        return written;
    }

    /// <summary>"mean ± std" with enough decimals for small values (the synthetic z MSE is ~0.03, ColorMNIST's ~50).</summary>
    private static string F(MeanStd? m, int? decimals = null)
    {
        if (m is null) return "-";
        return m.Format(decimals ?? (Math.Abs(m.Mean) < 1 ? 4 : Math.Abs(m.Mean) < 10 ? 3 : 2));
    }

    /// <summary>The results table (one row per method; columns that apply to the dataset), shared by the report and the CLI.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) Table(FairComparisonSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var methods = summary.Methods;
        var columns = new List<(string Header, Func<FairMethodAggregate, string> Cell)>
        {
            ("method", m => m.Method),
            ("target acc %", m => F(m.TargetAccuracy, 2)),
        };
        if (methods.Any(m => m.ZMse is not null))
        {
            columns.Add(("z MSE ↑", m => F(m.ZMse)));
            columns.Add(("MSE of mean z", m => F(m.ZMseOfMean)));
        }
        if (methods.Any(m => m.ZProbeAccuracy is not null))
        {
            columns.Add(("z probe acc % ↓", m => F(m.ZProbeAccuracy)));
            columns.Add(("z majority %", m => F(m.ZMajorityRate)));
        }
        if (methods.Any(m => m.EqualizedOdds is not null))
        {
            columns.Add(("EO ↓", m => F(m.EqualizedOdds)));
            columns.Add(("EO max ↓", m => F(m.EqualizedOddsMax)));
            columns.Add(("DP ↓", m => F(m.DemographicParity)));
        }
        columns.Add(("final loss", m => F(m.FinalTrainLoss, 3)));
        columns.Add(("samples/s", m => m.SamplesPerSecond.Mean.ToString("F0", CultureInfo.InvariantCulture)));
        return (columns.Select(c => c.Header).ToList(), methods.Select(m => (IReadOnlyList<string>)columns.Select(c => c.Cell(m)).ToList()).ToList());
    }

    /// <summary>Writes report.md into the comparison folder, with the paper's numbers beside ours where the dataset is the paper's.</summary>
    public static void Write(FairComparisonOptions options, FairComparisonSummary summary)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(summary);
        var run = options.Run;
        var loss = run.Loss;
        var report = new MarkdownReport($"Fair contrastive learning on {summary.Data}: {string.Join(", ", summary.Methods.Select(m => m.Method))}");
        var first = summary.Runs[0];
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Data `{summary.Data}`, z = {summary.Sensitive}; {first.TrainCount} train samples ({(run.Data.TrainLimit is null ? "all" : $"data-seeded subset of {run.Data.TrainLimit}")}), " +
            $"{first.TestCount} test samples; data seed {run.Data.DataSeed}; seeds {string.Join(", ", summary.Seeds)}. " +
            $"Encoder {(first.RepresentationDim == 84 ? "LeNet (84-d representation)" : $"MLP ({run.Model.MlpHidden} hidden, {first.RepresentationDim}-d representation)")}, " +
            $"projection head to {run.Model.ProjectionDim}, batch {run.Train.BatchSize}, {run.Train.Epochs} epochs ({first.Steps} steps), AdamW lr {run.Train.LearningRate} " +
            $"(weight decay {run.Train.WeightDecay}, warm-up {run.Train.WarmupEpochs} epoch(s) capped at 10% of the run, cosine to 0), τ {loss.Temperature}. " +
            $"Every method uses the same data object, subsets, encoder, optimiser, epochs and probes. Probes: linear, L2 {run.Eval.ProbeL2:0.###e+0}, " +
            $"fitted on {first.ProbeTrainCount} train representations (encoder output before the projection head, un-augmented) to convergence — " +
            $"final gradient norm ≤ {run.Eval.ProbeTolerance:0.###e+0} × that at the zero start; classifiers by L-BFGS (cap {run.Eval.ProbeMaxIterations} iterations), " +
            $"the z regressor by an exact least-squares solve (see Probe convergence) — and scored on the test samples. Reported at the final epoch (no validation split)."));
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Loss settings: CCLK kernel {EnumNames.Json(loss.Kernel)}, λ {loss.Lambda}; FARE d_k {(loss.AttentionDim == 0 ? "= d_z" : loss.AttentionDim.ToString(CultureInfo.InvariantCulture))}, " +
            $"ρ {(loss.AttentionTemperature == 0 ? "= √d_k" : loss.AttentionTemperature.ToString(CultureInfo.InvariantCulture))}, c_neg {(loss.NegativeScale == FareNegativeScale.One ? "1" : "B − 1")}, " +
            $"positive {(loss.IncludePositive ? "included" : "masked")}; SparseFARE {loss.Buckets} buckets, {EnumNames.Json(loss.Variant)}, chunk {loss.ChunkSize}, {EnumNames.Json(loss.Implementation)}."));
        report.Paragraph(summary.DataDescription);

        report.Heading("Results (mean ± std over seeds)");
        var (header, rows) = Table(summary);
        report.Table(header, rows);
        report.Paragraph(summary.BiasMetric switch
        {
            FairComparison.ZMseMetric => "z MSE: test MSE of a linear probe predicting z from the representation, on z's raw scale (0–255 RGB for ColorMNIST), mean over z's columns — " +
                          "the paper's \"bias removal\", higher = more of z removed. \"MSE of mean z\" is what a probe that learned nothing would score.",
            FairComparison.EqualizedOddsMetric => "EO: equalized-odds gap of the target probe's test predictions (mean over y ∈ {0,1} and group pairs of |P(ŷ=y|Y=y,S=s) − P(ŷ=y|Y=y,S=s′)|, ×100, FSCL form); " +
                                   "EO max: Hardt's max over pairs of max(|ΔTPR|, |ΔFPR|) ×100; DP: max − min over groups of P(ŷ=1|S=s) ×100. " +
                                   "z probe acc: test accuracy of a linear probe for the group id, beside the majority rate (lower, towards the majority rate = more removed).",
            _ => "z probe acc: test accuracy of a linear probe for the group id (lower, towards the majority rate = more removed).",
        });

        if (summary.Data == FairRunOptions.ColorMnist)
        {
            report.Heading("Beside the paper (Table 1, ColorMNIST)");
            report.Paragraph("The paper's numbers (FARE, arXiv 2411.14765, Table 1; baseline rows are copied from the CCLK paper) were obtained with " +
                             "settings it does not state (epochs, optimiser, ρ, d_k, LSH): compare orderings, not absolute values, unless the run used the full recipe " +
                             "(60k train, 1000 epochs with LARS). Bias removal = MSE of the linear colour probe, higher = more colour removed.");
            report.Table(["method", "paper acc %", "paper bias removal", "ours acc %", "ours z MSE"],
                summary.Methods.Select(m =>
                {
                    var paper = PaperTable1.FirstOrDefault(p => p.Method == m.Method);
                    return (IReadOnlyList<string>)
                    [
                        m.Method,
                        paper.Row is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{paper.Accuracy:F1} ± {paper.AccuracyStd:F1}"),
                        paper.Row is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{paper.BiasRemoval:F1} ± {paper.BiasRemovalStd:F1}"),
                        F(m.TargetAccuracy), F(m.ZMse),
                    ];
                }));
            report.Paragraph("Reviewer 1 notes that the CCLK paper also reports CCLK with the Laplacian kernel at 85.0 ± 0.9 accuracy and 72.8 ± 13.2 MSE, " +
                             "omitted from the paper's Table 1 (run `--kernel laplacian` to add it here).");
        }
        else if (summary.Data is FairRunOptions.Adult or FairRunOptions.Compas)
        {
            report.Heading("For context only: the paper's Table 2 (CelebA)");
            report.Paragraph($"The paper evaluates fairness on CelebA (images; target Attractive, sensitive Young + Male, no ± reported), a different dataset " +
                             $"from {summary.Data}: these numbers are NOT comparable with ours, only the direction of the trade-off (accuracy vs EO) is.");
            report.Table(["model (CelebA)", "acc %", "EO ↓"], PaperTable2.Select(p => (IReadOnlyList<string>)
                [p.Row, p.Accuracy.ToString("F1", CultureInfo.InvariantCulture), p.EqualizedOdds.ToString("F1", CultureInfo.InvariantCulture)]));
        }

        var withAttention = summary.Methods.Where(m => m.AttentionDistanceRatio is not null || m.AttentionEntropy is not null).ToList();
        if (withAttention.Count > 0)
        {
            report.Heading("FARE attention diagnostics (one test batch)");
            report.Paragraph("Entropy of the attention rows over z (nats) beside that of uniform attention over the same support, and the distance ratio: " +
                             "attention-weighted mean ‖z_i − z_j‖ over the uniform mean. Ratio < 1: the learned attention prefers negatives with similar z, " +
                             "as FARE intends; > 1: joint training has turned it towards dissimilar z (spec §7 Q8).");
            report.Table(["method", "entropy", "uniform entropy", "distance ratio"],
                withAttention.Select(m => (IReadOnlyList<string>)[m.Method, F(m.AttentionEntropy, 3), F(m.AttentionUniformEntropy, 3), F(m.AttentionDistanceRatio, 3)]));
        }

        WriteProbeConvergence(report, summary.Runs);

        report.Heading("Plots");
        foreach (var plot in summary.Plots) report.Image(plot, plot);

        report.Heading("Runs");
        report.Table(["method", "seed", "epochs", "target acc %", "z MSE", "z probe acc %", "EO", "final loss", "train s", "probe s", "wall s", "folder"],
            summary.Runs.Select(r => (IReadOnlyList<string>)
            [
                r.Method, r.Seed.ToString(CultureInfo.InvariantCulture), r.Epochs.ToString(CultureInfo.InvariantCulture),
                N(r.TargetAccuracy), N(r.ZMse, r.ZMse < 1 ? 4 : 2), N(r.ZProbeAccuracy), N(r.EqualizedOdds), N(r.FinalTrainLoss, 4), N(r.TrainSeconds, 1), N(r.EvalSeconds, 1), N(r.WallSeconds, 1),
                RunFolder.PerRunFolderName(r.Method, r.Seed) + "/",
            ]));
        report.Save(Path.Combine(options.Run.Output.OutDir, ComparisonRunner.ReportFileName));
    }

    /// <summary>Every probe's fit: the evidence that the accuracies and bias numbers above are those of converged probes.</summary>
    private static void WriteProbeConvergence(MarkdownReport report, IReadOnlyList<FairRunSummary> runs)
    {
        var fits = runs.SelectMany(r => new[] { (Run: r, Probe: "target", Fit: r.TargetProbeFit), (Run: r, Probe: "z", Fit: r.ZProbeFit) })
            .Where(f => f.Fit is not null).Select(f => (f.Run, f.Probe, Fit: f.Fit!)).ToList();
        if (fits.Count == 0) return;
        report.Heading("Probe convergence");
        var unconverged = fits.Where(f => !f.Fit.Converged).ToList();
        report.Paragraph(unconverged.Count == 0
            ? "Every probe met its convergence criterion (relative gradient norm ≤ tolerance)."
            : $"**Warning: {unconverged.Count} probe fit(s) did not converge** ({string.Join(", ", unconverged.Select(f => $"{f.Run.Method} seed {f.Run.Seed} {f.Probe}: {EnumNames.Json(f.Fit.StopReason)}"))}); " +
              "their numbers are those of an under-fitted probe (iteration_cap: raise --probe-max-iterations; no_decrease: the float64 floor, loosen --probe-tolerance).");
        report.Table(["method", "seed", "probe", "solver", "iterations", "converged", "‖∇f‖ / ‖∇f(0)‖", "‖∇f‖", "last loss change", "loss"],
            fits.Select(f => (IReadOnlyList<string>)
            [
                f.Run.Method, f.Run.Seed.ToString(CultureInfo.InvariantCulture), f.Probe, EnumNames.Json(f.Fit.Solver),
                f.Fit.Iterations.ToString(CultureInfo.InvariantCulture), f.Fit.Converged ? "yes" : "**no**",
                E(f.Fit.RelativeGradientNorm), E(f.Fit.GradientNorm), E(f.Fit.LastLossChange), f.Fit.Loss.ToString("G6", CultureInfo.InvariantCulture),
            ]));
    }

    /// <summary>The warning line for a run whose probes did not all converge; null when they did.</summary>
    public static string? ProbeWarning(FairRunSummary run)
    {
        var failed = new[] { (Probe: "target", Fit: run.TargetProbeFit), (Probe: "z", Fit: run.ZProbeFit) }.Where(p => p.Fit is { Converged: false })
            .Select(p => $"{p.Probe} probe stopped by {EnumNames.Json(p.Fit!.StopReason)} after {p.Fit.Iterations} iterations " +
                         $"(‖∇f‖/‖∇f(0)‖ = {E(p.Fit.RelativeGradientNorm)}, tolerance {E(p.Fit.Tolerance)})").ToList();
        return failed.Count == 0 ? null : $"warning: {run.Method} seed {run.Seed}: {string.Join("; ", failed)} — not converged";
    }

    private static string E(double value) => value.ToString("0.##e+0", CultureInfo.InvariantCulture);

    private static string N(double? value, int decimals = 2) =>
        value is { } v ? v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";
}
