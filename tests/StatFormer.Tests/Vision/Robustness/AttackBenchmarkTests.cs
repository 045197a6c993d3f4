using StatFormer.Benchmarks;
using StatFormer.Reporting;
using StatFormer.Vision.Robustness;
using TorchSharp;
using Xunit.Abstractions;

namespace StatFormer.Tests.Vision.Robustness;

public sealed class AttackBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public void ReportsThroughputsAndAConsistentRatioAndRestoresTheMode()
    {
        using var model = new ImageMlp(3 * 8 * 8, 64, 10, seed: 1);
        model.train();
        using var data = AttackTestData.Random(32, 3, 8, 10, seed: 2);
        var (images, labels) = AttackTestData.All(data);
        using var _ = images;
        using var __ = labels;
        var options = new AttackOptions { PgdSteps = 5, SpsaIterations = 2, SpsaSamples = 4 };
        var result = AttackBenchmark.Measure(model, images, labels, options, repeats: 1, warmup: 1, pairs: 1);
        output.WriteLine(JsonOutput.Serialize(result));
        Assert.True(model.training);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.Equal(32, result.Batch);
        Assert.Equal(5, result.PgdSteps);
        Assert.Equal(32 * 1000.0 / result.PgdMs, result.PgdImagesPerSecond, 9);
        Assert.Equal(32 * 1000.0 / result.SpsaMs, result.SpsaImagesPerSecond, 9);
        // One pair: the ratio is its PGD time over its block of five forward+backward passes.
        Assert.Equal(result.PgdMs / (5 * result.ForwardBackwardMs), result.PgdRatio, 9);
        Assert.True(result.CleanImagesPerSecond > 0 && double.IsFinite(result.CleanImagesPerSecond));
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        using var model = new ImageMlp(3 * 8 * 8, 64, 10, seed: 1);
        using var images = torch.zeros(4, 3, 8, 8);
        using var labels = torch.zeros(3, dtype: torch.ScalarType.Int64);
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => AttackBenchmark.Measure(model, images, labels)).ParamName);
        using var right = torch.zeros(4, dtype: torch.ScalarType.Int64);
        Assert.Equal("PgdSteps", Assert.Throws<ArgumentException>(() => AttackBenchmark.Measure(model, images, right, new AttackOptions { PgdSteps = 0 })).ParamName);
    }
}
