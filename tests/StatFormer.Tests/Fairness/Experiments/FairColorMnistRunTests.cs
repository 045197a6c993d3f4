using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Fairness.Models;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;

namespace StatFormer.Tests.Fairness.Experiments;

/// <summary>ColorMNIST from shared/data/mnist end to end with tiny limits (LeNet, image views, colour probe).</summary>
[Collection(CliCollection.Name)]
public sealed class FairColorMnistRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TinyColorMnistRunProbesColour()
    {
        // TestData throws, naming the folders it searched, when shared/data is missing.
        var dataDir = TestData.SharedDataDir;
        Assert.True(File.Exists(TestData.Path("mnist", "train-images-idx3-ubyte.gz")), $"MNIST is missing from {TestData.Path("mnist")}");
        var outDir = _dir.File("colormnist");
        var summary = FairExperiment.Run(new FairRunOptions
        {
            Data = new() { Dataset = FairRunOptions.ColorMnist, DataDir = dataDir, TrainLimit = 512, TestLimit = 256 },
            Model = new() { Method = ContrastiveMethod.Fare }, Train = new() { Epochs = 1, BatchSize = 128 }, Output = new() { OutDir = outDir },
        });

        Assert.Equal("colormnist", summary.Data);
        Assert.Equal("background_rgb", summary.Sensitive);
        Assert.Equal(84, summary.RepresentationDim);
        Assert.Equal(4, summary.Steps);
        Assert.True(double.IsFinite(summary.FinalTrainLoss));
        Assert.InRange(summary.TargetAccuracy, 20, 100); // 10 classes: chance is 10 %
        // Colour is on the raw 0–255 scale: the MSE of the mean is the colour variance (thousands); a linear probe on
        // barely trained LeNet features still recovers much of it.
        Assert.True(summary.ZMseOfMean > 1000, $"MSE of the mean colour {summary.ZMseOfMean}");
        Assert.True(summary.ZMse > 0 && summary.ZMse < summary.ZMseOfMean, $"z MSE {summary.ZMse} vs {summary.ZMseOfMean}");
        Assert.NotNull(summary.Attention);
        CliHarness.AssertPng(Path.Combine(outDir, FairExperiment.EmbeddingPlotFileName));
        var projection = System.Text.Json.JsonSerializer.Deserialize<FairEmbeddingProjection>(
            File.ReadAllText(Path.Combine(outDir, FairEmbeddingProjection.FileName)), StatFormer.Reporting.JsonOutput.Options)!;
        Assert.NotNull(projection.Rgb);
        Assert.Equal(256, projection.Rgb!.Count);
        Assert.All(projection.Rgb, hex => Assert.Matches("^#[0-9a-f]{6}$", hex));
    }
}
