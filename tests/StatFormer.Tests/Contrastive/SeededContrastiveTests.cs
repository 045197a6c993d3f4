using StatFormer.Benchmarks;
using StatFormer.Contrastive;
using StatFormer.Tests.Cli;
using TorchSharp;
using static StatFormer.Tests.Cli.CliHarness;
using static StatFormer.Tests.Contrastive.ContrastiveTestData;

namespace StatFormer.Tests.Contrastive;

/// <summary>Tests that draw from torch's global generator or run the CLI: alone, in the CLI collection.</summary>
[Collection(CliCollection.Name)]
public class SeededContrastiveTests
{
    [Fact]
    public void SparseFareRedrawsRFromTheGlobalGeneratorSoSeededRunsRepeat()
    {
        var random = new Random(5);
        var (v1, v2, z) = (RandomRows(random, 24, 4), RandomRows(random, 24, 4), RandomRows(random, 24, 3));
        using var loss = new SparseFareLoss(3, new ContrastiveLossOptions { Buckets = 8, ChunkSize = 3 });
        double Run()
        {
            using var scope = torch.NewDisposeScope();
            return loss.forward(Rows(v1), Rows(v2), Sensitive(z)).item<float>();
        }
        var draws = Enumerable.Range(0, 6).Select(_ => Run()).ToArray();
        Assert.True(draws.Distinct().Count() > 1, "R is not redrawn: every forward gave the same loss");
        torch.manual_seed(42);
        var first = Run();
        torch.manual_seed(42);
        Assert.Equal(first, Run());
    }

    [Fact]
    public void BenchFairJson()
    {
        var result = Run("bench", "fair", "--json", "--batches", "8,16", "--repeats", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var methods = json.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(FairLossBenchmark.Methods, methods.Select(m => m.GetProperty("method").GetString()!).ToArray());
        foreach (var method in methods)
        {
            var timings = method.GetProperty("timings").EnumerateArray().ToList();
            Assert.Equal(new[] { 8, 16 }, timings.Select(t => t.GetProperty("batch").GetInt32()).ToArray());
            Assert.All(timings, t => Assert.True(t.GetProperty("ms").GetDouble() > 0));
            Assert.True(double.IsFinite(method.GetProperty("exponent").GetDouble()));
        }
        Assert.Equal(16, json.GetProperty("ratio_batch").GetInt32());
        Assert.True(json.GetProperty("ratio_fare_sparse_fare_at_4096").GetDouble() > 0);
    }

    [Theory]
    [InlineData("8,x", "'x'")]
    [InlineData("8,0", "'0'")]
    public void BenchFairBadBatches(string batches, string culprit) =>
        AssertOneLineError(Run("bench", "fair", "--batches", batches, "--repeats", "1"), "--batches", culprit);

    [Fact]
    public void GrowthExponentIsTheLogLogSlope()
    {
        var timings = new[] { new FairLossTiming(100, 2.0), new FairLossTiming(200, 8.0), new FairLossTiming(400, 32.0) };
        Assert.Equal(2.0, FairLossBenchmark.GrowthExponent(timings), 10);
        Assert.True(double.IsNaN(FairLossBenchmark.GrowthExponent(timings[..1])));
    }
}
