using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class MoeCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string[] TinyMoe(int steps = 6, int layers = 3) => [.. WithLayers(Tiny(steps: steps), layers), "--experts", "4", "--top-k", "2"];

    private static string[] WithLayers(string[] args, int layers)
    {
        var copy = args.ToArray();
        copy[Array.IndexOf(copy, "--layers") + 1] = $"{layers}";
        return copy;
    }

    [Fact]
    public void CompareSmoeAgainstAcSmoeReportsConvergenceRoutingAndPlots()
    {
        var outDir = _dir.File("moe");
        var result = Run(["compare", "--data", "synthetic", "--seeds", "2", "--variants", "smoe,ac-smoe", "--out", outDir, "--json", .. TinyMoe()]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var root = result.Json();
        var variants = root.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(new[] { "smoe", "ac-smoe" }, variants.Select(v => v.GetProperty("variant").GetString()).ToArray());
        var target = root.GetProperty("target_valid_ppl").GetDouble();
        Assert.True(target > 1);
        foreach (var v in variants)
        {
            // The default target is the worst run's best validation perplexity: every run reaches it.
            Assert.Equal(2, v.GetProperty("reached_target").GetInt32());
            Assert.True(v.GetProperty("steps_to_target").GetProperty("mean").GetDouble() is >= 2 and <= 6);
            var routing = v.GetProperty("routing");
            Assert.True(routing.GetProperty("load_cv").GetProperty("mean").GetDouble() >= 0);
            Assert.True(routing.GetProperty("topic_nmi").GetProperty("mean").GetDouble() is >= 0 and <= 1);
        }
        var plots = root.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains("expert_load_smoe.png", plots);
        Assert.Contains("expert_load_ac-smoe.png", plots);
        Assert.Contains("topic_confusion_ac-smoe.png", plots);
        foreach (var plot in plots) AssertPng(Path.Combine(outDir, plot));
        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("Routing diagnostics", report);
        Assert.Contains("steps to ppl", report);
        Assert.True(File.Exists(Path.Combine(outDir, "ac-smoe-seed1", "summary.json")));
    }

    [Fact]
    public void LmTrainWithAnMoeRouterWritesRoutingDiagnostics()
    {
        var outDir = _dir.File("one");
        var result = Run(["lm", "train", "--data", "synthetic", "--moe", "ac-xmoe", "--attention", "elliptical", "--moe-every", "2", "--out", outDir, "--json", .. TinyMoe(4)]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("elliptical+ac-xmoe", json.GetProperty("variant").GetString());
        Assert.Equal(2, json.GetProperty("routing").GetProperty("layers").GetArrayLength());
        Assert.Contains("aux_loss", File.ReadAllText(Path.Combine(outDir, "metrics.jsonl")));

        // lm eval rebuilds the MoE model from the checkpoint and reports the same routing.
        var eval = Run(["lm", "eval", "--run", outDir, "--json"]);
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var evaluation = eval.Json();
        Assert.Equal(json.GetProperty("test_ppl").GetDouble(), evaluation.GetProperty("test_ppl").GetDouble(), 9);
        Assert.Equal(json.GetProperty("routing").GetProperty("mean_load_cv").GetDouble(), evaluation.GetProperty("routing").GetProperty("mean_load_cv").GetDouble(), 9);
    }

    [Theory]
    [InlineData("ac-smoe", 1, "--top-k", "2", "--ac-base-layers")]
    [InlineData("smoe", 2, "--top-k", "9", "--top-k")]
    [InlineData("gshard", 2, "--top-k", "2", "--moe")]
    [InlineData("smoe", 2, "--moe-every", "3", "--moe-every")]
    [InlineData("ac-xmoe", 3, "--ac-base-layers", "0", "--ac-base-layers")]
    public void BadMoeOptionsAreOneLineErrors(string moe, int layers, string option, string value, string named)
    {
        var result = Run(["lm", "train", "--data", "synthetic", "--out", _dir.File("bad"), .. WithLayers(Tiny(steps: 2), layers), "--moe", moe, option, value]);
        AssertOneLineError(result, named);
    }

    [Fact]
    public void UnknownVariantIsAOneLineError() =>
        AssertOneLineError(Run(["compare", "--data", "synthetic", "--variants", "smoe,foo", "--out", _dir.File("x"), .. Tiny(steps: 2)]), "--variants", "foo");
}
