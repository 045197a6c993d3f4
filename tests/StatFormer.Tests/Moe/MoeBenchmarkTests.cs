using StatFormer.Benchmarks;
using StatFormer.Tests.Cli;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Moe;

[Collection(CliCollection.Name)]
public class MoeBenchmarkTests
{
    [Fact]
    public void TinyBenchmarkGivesPositiveFiniteTimes()
    {
        var result = MoeBenchmark.Measure(new MoeBenchmarkOptions { Batch = 2, Seq = 4, DModel = 8, Experts = 4, TopK = 2, ExpertHidden = 8, Warmup = 0, Repeats = 1, Rounds = 1 });
        Assert.Equal(new[] { "dense", "smoe", "ac-smoe", "xmoe", "ac-xmoe" }, result.Variants.Select(v => v.Variant));
        Assert.Equal("smoe+ac-smoe", result.Variants[2].Stack);
        Assert.Equal(16, result.DenseHidden);
        foreach (var value in result.Variants.Select(v => v.StepMs).Append(result.RatioAcSmoeSmoe).Append(result.RatioAcXmoeXmoe).Append(result.RatioSmoeDense))
            Assert.True(double.IsFinite(value) && value > 0, $"{value}");
        // Per token and layer: dense 4·8·16 = 512 matmul FLOPs; SMoE 4·8·2·8 + 2·8·4 (router) = 576.
        Assert.Equal(576.0 / 512.0, result.FlopLimitSmoeDense, 12);
        Assert.True(result.LimitWithOptimizerSmoeDense >= result.FlopLimitSmoeDense && double.IsFinite(result.LimitWithOptimizerSmoeDense));
        foreach (var v in result.Variants)
        {
            var b = v.Breakdown;
            Assert.All(new[] { b.Router, b.TopKAndBalance, b.Permutation, b.ExpertMatmuls, b.Combine, b.OtherForward, b.Backward, b.Optimizer },
                ms => Assert.True(ms >= 0 && double.IsFinite(ms), $"{v.Variant}: {ms}"));
            Assert.True(v.PeakResidentMiB > 0 && v.StepMemoryMiB >= 0, v.Variant);
            Assert.Equal(v.Variant == "dense", b.ExpertMatmuls == 0);
            if (v.Variant == "dense") Assert.True(double.IsNaN(v.ExpertRowsPerAssignment));
            else if (result.Computation == StatFormer.Moe.ExpertComputation.PerExpert) Assert.Equal(1.0, v.ExpertRowsPerAssignment);
            else Assert.True(v.ExpertRowsPerAssignment >= 1, $"{v.Variant}: {v.ExpertRowsPerAssignment}");
        }
        Assert.True(result.LimitWithPaddingSmoeDense >= result.LimitWithOptimizerSmoeDense - 1e-12);
    }

    [Theory]
    [InlineData(StatFormer.Moe.ExpertComputation.Padded)]
    [InlineData(StatFormer.Moe.ExpertComputation.PerExpert)]
    public void ThePhaseClockCountsTheRowsTheExpertsComputed(StatFormer.Moe.ExpertComputation computation)
    {
        TorchSharp.torch.manual_seed(4);
        using var layer = new StatFormer.Moe.MoeFeedForward(8, StatFormer.Moe.MoeKind.Smoe,
            new StatFormer.Moe.MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 8 }, causal: false)
        { Computation = computation };
        var clock = new StatFormer.Moe.MoePhaseClock();
        layer.PhaseClock = clock;
        using var x = TorchSharp.torch.randn(40, 8);
        var output = layer.forward(x, null);
        // Padded: every expert gets the busiest expert's count of rows; exact-size: one row per assignment.
        var counts = TorchSharp.torch.bincount(output.Routing.TopIndices.reshape(-1), minlength: 4).data<long>().ToArray();
        Assert.Equal(80, clock.KeptAssignments);
        Assert.Equal(computation == StatFormer.Moe.ExpertComputation.Padded ? 4 * counts.Max() : 80, clock.ComputedRows);
    }

    [Fact]
    public void CliJson()
    {
        var result = Run("bench", "moe", "--json", "--batch", "2", "--seq", "4", "--d-model", "8", "--experts", "4", "--top-k", "2", "--expert-hidden", "8", "--repeats", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        foreach (var key in new[] { "ratio_ac_smoe_smoe", "ratio_ac_xmoe_xmoe", "ratio_smoe_dense", "ratio_smoe_dense_paired" })
            Assert.True(json.GetProperty(key).GetDouble() > 0, key);
        Assert.Equal("wall", json.GetProperty("clock").GetString());
        var variants = json.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(5, variants.Count);
        Assert.All(variants, v => Assert.True(v.GetProperty("step_ms").GetDouble() > 0));
    }

    [Fact]
    public void CliCpuClock()
    {
        var result = Run("bench", "moe", "--batch", "2", "--seq", "4", "--d-model", "8", "--experts", "4", "--top-k", "2", "--expert-hidden", "8", "--repeats", "1", "--clock", "cpu");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("cpu clock", result.Stdout);
        Assert.Contains("(paired steps)", result.Stdout);
    }

    [Fact]
    public void CliRejectsTopKAboveExperts() =>
        AssertOneLineError(Run("bench", "moe", "--experts", "2", "--top-k", "3", "--repeats", "1"), "--top-k", "--top-k (3) exceeds --experts (2)");
}
