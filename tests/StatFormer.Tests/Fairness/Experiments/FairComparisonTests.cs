using System.Text.Json;
using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.IO;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Fairness.Experiments.FairRunFixtures;

namespace StatFormer.Tests.Fairness.Experiments;

[Collection(CliCollection.Name)]
public sealed class FairComparisonTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TwoMethodsTwoSeedsWriteSummaryReportAndPlotsReproducibly()
    {
        var outDir = _dir.File("cmp");
        var options = new FairComparisonOptions
        {
            Run = WithEpochs(Tiny(outDir), 2), Methods = [ContrastiveMethod.InfoNce, ContrastiveMethod.Fare], Seeds = [0, 1],
        };
        var summary = FairComparison.Run(options);

        Assert.Equal("synthetic", summary.Data);
        Assert.Equal(FairComparison.ZMseMetric, summary.BiasMetric);
        Assert.Equal(new[] { "infonce", "fare" }, summary.Methods.Select(m => m.Method).ToArray());
        Assert.Equal(4, summary.Runs.Count);
        foreach (var m in summary.Methods)
        {
            Assert.Equal(2, m.TargetAccuracy.N);
            Assert.True(m.TargetAccuracy.Std > 0, "two seeds give two different accuracies");
            Assert.NotNull(m.ZMse);
            Assert.Null(m.EqualizedOdds);
            var runs = summary.Runs.Where(r => r.Method == m.Method).ToList();
            Assert.Equal(runs.Average(r => r.TargetAccuracy), m.TargetAccuracy.Mean, 10);
        }
        Assert.Null(summary.Methods[0].AttentionDistanceRatio);
        Assert.NotNull(summary.Methods[1].AttentionDistanceRatio);

        Assert.Equal(new[] { "accuracy_vs_bias.png", "embedding_infonce.png", "embedding_fare.png", "loss_curves.png" }, summary.Plots.ToArray());
        foreach (var plot in summary.Plots) CliHarness.AssertPng(Path.Combine(outDir, plot));
        using (var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))))
            Assert.Equal(4, written.RootElement.GetProperty("runs").GetArrayLength());
        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("| method |", report);
        Assert.Contains("z MSE", report);
        Assert.Contains("FARE attention diagnostics", report);
        foreach (var m in summary.Methods)
            Assert.Contains($"{m.TargetAccuracy.Mean.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)} ± ", report);
        foreach (var plot in summary.Plots) Assert.Contains($"]({plot})", report);
        Assert.DoesNotContain("Table 1", report); // the paper's ColorMNIST table is only shown for ColorMNIST

        // The same seed and settings give the same numbers in another folder.
        var again = FairExperiment.Run(options.Run with { Model = options.Run.Model with { Method = ContrastiveMethod.Fare }, Train = options.Run.Train with { Seed = 1 }, Output = new() { OutDir = _dir.File("again") } });
        var original = summary.Runs.Single(r => r.Method == "fare" && r.Seed == 1);
        Assert.Equal(original.EpochTrainLoss, again.EpochTrainLoss);
        Assert.Equal(original.TargetAccuracy, again.TargetAccuracy);
        Assert.Equal(original.ZMse, again.ZMse);
        Assert.Equal(original.Attention, again.Attention);

        // --resume reuses the four finished runs without training.
        var log = new List<string>();
        var resumed = FairComparison.Run(Resumed(options), log: log.Add);
        Assert.Equal(4, log.Count(l => l.Contains("finished earlier")));
        Assert.Equal(summary.Runs.Select(r => r.TargetAccuracy), resumed.Runs.Select(r => r.TargetAccuracy));
        Assert.Equal(summary.Methods.Select(m => m.ZMse), resumed.Methods.Select(m => m.ZMse));
    }

    [Fact]
    public void UnconvergedProbesAreReported_AndSummariesWithoutProbeFitsAreReprobed()
    {
        var outDir = _dir.File("capped");
        var options = new FairComparisonOptions
        {
            Run = WithEpochs(Tiny(outDir), 1) with { Eval = new() { ProbeMaxIterations = 1 } }, Methods = [ContrastiveMethod.InfoNce], Seeds = [0],
        };
        var log = new List<string>();
        var summary = FairComparison.Run(options, log: log.Add);
        var run = summary.Runs.Single();
        Assert.False(run.TargetProbeFit!.Converged);
        Assert.Equal(ProbeStopReason.IterationCap, run.TargetProbeFit.StopReason);
        Assert.True(run.ZProbeFit!.Converged, "the exact solve has no iteration cap");
        Assert.Contains(log, l => l.StartsWith("warning: infonce seed 0: target probe stopped by iteration_cap after 1 iterations", StringComparison.Ordinal));
        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("## Probe convergence", report);
        Assert.Contains("**Warning: 1 probe fit(s) did not converge** (infonce seed 0 target: iteration_cap)", report);
        Assert.Contains("| infonce | 0 | target | lbfgs | 1 | **no** |", report);
        Assert.Contains("| infonce | 0 | z | exact_solve | 0 | yes |", report);

        // A summary.json from before probes reported their fit is not reused as finished: its checkpoint is re-probed.
        var runSummary = Path.Combine(outDir, RunFolder.PerRunFolderName("infonce", 0), FairExperiment.SummaryFileName);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(runSummary))!.AsObject();
        node.Remove("target_probe_fit");
        node.Remove("z_probe_fit");
        File.WriteAllText(runSummary, node.ToJsonString());
        log.Clear();
        var reprobed = FairComparison.Run(Resumed(options), log: log.Add);
        Assert.DoesNotContain(log, l => l.Contains("finished earlier"));
        Assert.Equal(0, reprobed.Runs.Single().TrainSeconds, 1);
        Assert.NotNull(reprobed.Runs.Single().TargetProbeFit);
        Assert.Equal(run.TargetAccuracy, reprobed.Runs.Single().TargetAccuracy);
    }
}
