using System.Text.Json;
using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Fairness.Models;
using StatFormer.IO;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;
using StatFormer.Training;
using static StatFormer.Tests.Fairness.Experiments.FairRunFixtures;

namespace StatFormer.Tests.Fairness.Experiments;

/// <summary>One fair contrastive run end to end on the embedded synthetic data: training, probes, files, exact resume.</summary>
[Collection(CliCollection.Name)]
public sealed class FairExperimentTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(ContrastiveMethod.InfoNce)]
    [InlineData(ContrastiveMethod.FairInfoNce)]
    [InlineData(ContrastiveMethod.Cclk)]
    [InlineData(ContrastiveMethod.Fare)]
    [InlineData(ContrastiveMethod.SparseFare)]
    public void EachMethodTrainsAndIsProbed(ContrastiveMethod method)
    {
        var outDir = _dir.File(EnumNames.Cli(method));
        var summary = FairExperiment.Run(Tiny(outDir, method));

        Assert.Equal(EnumNames.Cli(method), summary.Method);
        Assert.Equal(3 * (512 / 64), summary.Steps);
        Assert.Equal(3, summary.EpochTrainLoss.Count);
        Assert.Equal(summary.EpochTrainLoss[^1], summary.FinalTrainLoss);
        var trainRecords = MetricsLog.Read(Path.Combine(outDir, Trainer.MetricsFileName)).Where(r => r.Split == MetricRecord.TrainSplit).ToList();
        Assert.Equal(summary.Steps, trainRecords.Count);
        Assert.True(trainRecords[^1].Loss < trainRecords[0].Loss, $"loss went from {trainRecords[0].Loss} to {trainRecords[^1].Loss}");
        Assert.True(summary.EpochTrainLoss[^1] < summary.EpochTrainLoss[0], string.Join(", ", summary.EpochTrainLoss));

        // Synthetic z is continuous (2-D) with a 4-class target: the MSE probe applies, the categorical and binary-target metrics do not.
        Assert.InRange(summary.TargetAccuracy, 25.0 + 1, 100); // better than chance (4 classes)
        Assert.NotNull(summary.ZMse);
        Assert.True(double.IsFinite(summary.ZMse!.Value) && summary.ZMse > 0);
        Assert.True(summary.ZMse < summary.ZMseOfMean, $"z MSE {summary.ZMse} should be below the MSE of the mean {summary.ZMseOfMean} after so little training");
        Assert.Null(summary.ZProbeAccuracy);
        Assert.Null(summary.EqualizedOdds);
        Assert.Equal(method is ContrastiveMethod.Fare or ContrastiveMethod.SparseFare, summary.Attention is not null);
        if (summary.Attention is { } attention)
        {
            Assert.True(double.IsFinite(attention.MeanEntropy) && attention.MeanEntropy <= attention.UniformEntropy + 1e-9);
            Assert.True(double.IsFinite(attention.DistanceRatio));
        }
        Assert.Equal(512, summary.TrainCount);
        Assert.Equal(256, summary.TestCount);
        Assert.Equal(384, summary.ProbeTrainCount);
        Assert.True(summary.SamplesPerSecond > 0);
        // Both probes report how their fit ended, and both reached the optimum.
        Assert.Equal(ProbeSolver.Lbfgs, summary.TargetProbeFit!.Solver);
        Assert.True(summary.TargetProbeFit.Converged && summary.TargetProbeFit.Iterations > 0, summary.TargetProbeFit.ToString());
        Assert.True(summary.TargetProbeFit.GradientNorm <= 1e-6 * summary.TargetProbeFit.InitialGradientNorm);
        Assert.Equal(ProbeSolver.ExactSolve, summary.ZProbeFit!.Solver);
        Assert.True(summary.ZProbeFit.Converged, summary.ZProbeFit.ToString());
        Assert.Null(FairComparisonReport.ProbeWarning(summary));

        using var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.Equal(summary.TargetAccuracy, written.RootElement.GetProperty("target_accuracy").GetDouble());
        Assert.Equal(EnumNames.Cli(method), written.RootElement.GetProperty("method").GetString());
        var targetFit = written.RootElement.GetProperty("target_probe_fit");
        Assert.True(targetFit.GetProperty("converged").GetBoolean());
        Assert.Equal("gradient_tolerance", targetFit.GetProperty("stop_reason").GetString());
        Assert.Equal(summary.TargetProbeFit.GradientNorm, targetFit.GetProperty("gradient_norm").GetDouble());
        Assert.Equal(summary.TargetProbeFit.LastLossChange, targetFit.GetProperty("last_loss_change").GetDouble());
        Assert.Equal(summary.TargetProbeFit.Iterations, targetFit.GetProperty("iterations").GetInt32());
        Assert.Equal("exact_solve", written.RootElement.GetProperty("z_probe_fit").GetProperty("solver").GetString());
        CliHarness.AssertPng(Path.Combine(outDir, FairExperiment.LossCurveFileName));
        CliHarness.AssertPng(Path.Combine(outDir, FairExperiment.EmbeddingPlotFileName));
        Assert.True(File.Exists(Path.Combine(outDir, Trainer.CheckpointFileName)));
        var projection = JsonSerializer.Deserialize<FairEmbeddingProjection>(File.ReadAllText(Path.Combine(outDir, FairEmbeddingProjection.FileName)), JsonOutput.Options)!;
        Assert.Equal(256, projection.X.Count);
        Assert.Null(projection.Rgb);
    }

    [Fact]
    public void InterruptedAndResumedRunEqualsUninterruptedRun()
    {
        // SparseFARE draws its LSH projection from the torch generator every step: the strictest case for resuming.
        var whole = FairExperiment.Run(Tiny(_dir.File("whole"), ContrastiveMethod.SparseFare));

        var resumedDir = _dir.File("resumed");
        using var stop = new CancellationTokenSource();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step == 11) stop.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => FairExperiment.Run(Tiny(resumedDir, ContrastiveMethod.SparseFare), progress, cancellationToken: stop.Token));
        Assert.False(File.Exists(Path.Combine(resumedDir, FairExperiment.SummaryFileName)));
        var resumed = FairExperiment.Run(Resumed(Tiny(resumedDir, ContrastiveMethod.SparseFare)));

        Assert.Equal(whole.Steps, resumed.Steps);
        Assert.Equal(whole.EpochTrainLoss, resumed.EpochTrainLoss);
        Assert.Equal(whole.FinalTrainLoss, resumed.FinalTrainLoss);
        Assert.Equal(whole.TargetAccuracy, resumed.TargetAccuracy);
        Assert.Equal(whole.ZMse, resumed.ZMse);
        Assert.Equal(whole.Attention, resumed.Attention);
        var wholeLoss = MetricsLog.Read(Path.Combine(_dir.File("whole"), Trainer.MetricsFileName)).Select(r => r.Loss);
        var resumedLoss = MetricsLog.Read(Path.Combine(resumedDir, Trainer.MetricsFileName)).Select(r => r.Loss);
        Assert.Equal(wholeLoss, resumedLoss);
    }

    [Fact]
    public void ResumingAnotherMethodsFolderIsRefused()
    {
        var outDir = _dir.File("run");
        FairExperiment.Run(WithEpochs(Tiny(outDir, ContrastiveMethod.InfoNce), 1));
        var error = Assert.Throws<RunFolderConflictException>(() => FairExperiment.Run(Resumed(Tiny(outDir, ContrastiveMethod.Fare))));
        Assert.Equal(RunFolderConflict.DifferentRun, error.Conflict);
        Assert.Contains("method", error.Message);
    }

    [Fact]
    public void BadOptionsNameTheirOption()
    {
        Assert.Equal("Train.Epochs", Assert.Throws<ArgumentException>(() => FairExperiment.Run(WithEpochs(Tiny(_dir.File("a")), 0))).ParamName);
        Assert.Equal("Loss.Buckets", Assert.Throws<ArgumentException>(() =>
            FairExperiment.Run(Tiny(_dir.File("b")) with { Loss = new ContrastiveLossOptions { Buckets = 3 } })).ParamName);
        var small = Tiny(_dir.File("c"));
        Assert.Equal("Train.BatchSize", Assert.Throws<ArgumentException>(() =>
            FairExperiment.Run(small with { Data = small.Data with { TrainLimit = 32 }, Train = small.Train with { BatchSize = 64 } })).ParamName);
        var missing = Assert.Throws<ArgumentException>(() =>
            FairExperiment.Run(Tiny(_dir.File("d")) with { Data = new() { Dataset = FairRunOptions.ColorMnist, DataDir = _dir.File("nowhere") } }));
        Assert.Equal("Data.DataDir", missing.ParamName);
        Assert.Contains("train-images-idx3-ubyte.gz", missing.Message);
        Assert.Equal("Data.Sensitive", Assert.Throws<ArgumentException>(() =>
            FairExperiment.Run(Tiny(_dir.File("e")) with { Data = new() { Dataset = FairRunOptions.Adult, Sensitive = "age" } })).ParamName);
        Assert.False(Directory.Exists(_dir.File("a")), "nothing is written for a run that cannot start");
    }

    [Fact]
    public void LogWindowsNeverStraddleEpochs()
    {
        foreach (var stepsPerEpoch in new[] { 1, 7, 8, 10, 11, 12, 234, 233 })
        {
            var every = FairExperiment.LogInterval(stepsPerEpoch);
            Assert.Equal(0, stepsPerEpoch % every);
            Assert.True(stepsPerEpoch / every <= 10);
        }
        Assert.Equal(1, FairExperiment.LogInterval(8));
        Assert.Equal(26, FairExperiment.LogInterval(234));
    }
}
