using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;

namespace StatFormer.Tests.Fairness.Experiments;

/// <summary>UCI Adult from shared/data/adult with tiny limits: categorical z and a binary target (z-group probe, EO, DP).</summary>
[Collection(CliCollection.Name)]
public sealed class FairTabularRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AdultComparisonReportsGroupProbeAndEqualizedOdds()
    {
        Assert.True(File.Exists(TestData.Path("adult", "adult.data")), $"Adult is missing from {TestData.Path("adult")}");
        var outDir = _dir.File("adult");
        var summary = FairComparison.Run(new FairComparisonOptions
        {
            Run = new FairRunOptions
            {
                Data = new() { Dataset = FairRunOptions.Adult, DataDir = TestData.SharedDataDir, Sensitive = "race,sex", TrainLimit = 512, TestLimit = 256 },
                Model = new() { MlpHidden = 32, MlpOutput = 16, ProjectionDim = 32 }, Train = new() { Epochs = 1, BatchSize = 64 }, Output = new() { OutDir = outDir },
            },
            Methods = [ContrastiveMethod.Fare], Seeds = [0],
        });

        Assert.Equal(FairComparison.EqualizedOddsMetric, summary.BiasMetric);
        Assert.Equal("sex,race", summary.Sensitive);
        var run = Assert.Single(summary.Runs);
        Assert.Null(run.ZMse);
        Assert.NotNull(run.ZProbeAccuracy);
        Assert.InRange(run.ZMajorityRate!.Value, 1, 100);
        Assert.InRange(run.EqualizedOdds!.Value, 0, 100);
        Assert.InRange(run.EqualizedOddsMax!.Value, 0, 100);
        Assert.InRange(run.DemographicParity!.Value, 0, 100);
        Assert.InRange(run.TargetAccuracy, 50, 100); // about 76 % of Adult earns ≤ 50K
        Assert.NotNull(run.Attention);

        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("EO ↓", report);
        Assert.Contains("Table 2 (CelebA)", report);
        Assert.Contains("NOT comparable", report);
        foreach (var plot in summary.Plots) CliHarness.AssertPng(Path.Combine(outDir, plot));
    }
}
