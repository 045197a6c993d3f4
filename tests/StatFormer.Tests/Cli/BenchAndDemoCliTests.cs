using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class BenchAndDemoCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void BenchAttentionJson()
    {
        var result = Run("bench", "attention", "--json", "--sizes", "2,2,16,8;1,2,8,4", "--repeats", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.Json().EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
            foreach (var key in new[] { "softmax_ms", "elliptical_ms", "elliptical_explicit_ms", "ratio_elliptical_softmax", "ratio_elliptical_softmax_paired",
                         "metric_extra_bytes", "elementwise_gigabytes_per_second", "limit_elliptical_softmax" })
            {
                var value = row.GetProperty(key).GetDouble();
                Assert.True(double.IsFinite(value) && value > 0, $"{key} = {value}");
            }
        // On the CPU: 9 float32 passes over B·H·N·D = 2·2·16·8 elements (the metric scan reads V and V_prev and writes m; q ⊙ m; grad ⊙ m).
        Assert.Equal(9 * 4 * 2 * 2 * 16 * 8, rows[0].GetProperty("metric_extra_bytes").GetInt64());
        Assert.True(rows[0].GetProperty("limit_elliptical_softmax").GetDouble() > 1.0);
    }

    [Fact]
    public void BenchLmJsonHasMfuBreakdownAndMemory()
    {
        var result = Run("bench", "lm", "--json", "--d-model", "16", "--layers", "2", "--heads", "2", "--seq-len", "8", "--batch-size", "2", "--vocab", "32", "--steps", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.Json().EnumerateArray().ToList();
        Assert.Equal(new[] { "softmax", "elliptical" }, rows.Select(r => r.GetProperty("attention").GetString()));
        foreach (var row in rows)
        {
            foreach (var key in new[] { "step_ms", "gemm_gflop_per_second", "mfu", "peak_resident_mi_b" })
                Assert.True(row.GetProperty(key).GetDouble() > 0, key);
            var breakdown = row.GetProperty("breakdown");
            foreach (var key in new[] { "embedding", "attention", "feed_forward", "layer_norm", "output_and_loss", "optimizer" })
                Assert.True(breakdown.GetProperty(key).GetDouble() > 0, key);
            Assert.True(double.IsFinite(breakdown.GetProperty("other").GetDouble()));
        }
    }

    [Fact]
    public void BenchAttentionCpuClock()
    {
        var result = Run("bench", "attention", "--sizes", "1,2,8,4", "--repeats", "1", "--clock", "cpu");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("cpu clock", result.Stdout);
        Assert.Contains("limit", result.Stdout);
    }

    [Theory]
    [InlineData("2,2,x,8", "'2,2,x,8'")]
    [InlineData("2,2,16", "'2,2,16'")]
    [InlineData("2,0,16,8", "'2,0,16,8'")]
    [InlineData("2,2,16,8;-1,2,16,8", "'-1,2,16,8'")]
    public void BenchAttentionBadSizes(string sizes, string culprit) =>
        AssertOneLineError(Run("bench", "attention", "--json", "--sizes", sizes, "--repeats", "1"), "--sizes", culprit);

    [Fact]
    public void BenchAttentionBadRepeats() =>
        AssertOneLineError(Run("bench", "attention", "--sizes", "2,2,16,8", "--repeats", "0"), "--repeats");

    [Fact]
    public void DemoRunsEndToEndAndPrintsTheReportPath()
    {
        var outDir = _dir.File("demo");
        var result = Run("demo", "--steps", "5", "--seeds", "1", "--eval-every", "5", "--valid-tokens", "512", "--eval-tokens", "1024", "--fair-epochs", "1",
            "--probe-seeds", "2", "--probe-steps", "2", "--vision-steps", "3", "--out", outDir);
        Assert.True(result.ExitCode == 0, result.ToString());
        // First the three mechanism probes, each with its plain-language findings and report.
        foreach (var probe in new[] { "probe-elliptical", "probe-ac", "probe-fare" })
            Assert.True(File.Exists(Path.Combine(outDir, probe, "report.md")), probe);
        Assert.Contains("theory predicts", result.Stdout);
        Assert.True(result.Stdout.IndexOf("probe elliptical", StringComparison.Ordinal) < result.Stdout.IndexOf("routing diagnostics", StringComparison.Ordinal));
        var report = Path.Combine(Path.GetFullPath(outDir), "lm", "report.md");
        Assert.Contains($"report: {report}", result.Stdout);
        Assert.True(File.Exists(report));
        // The demo's own model, not the library defaults: 3 layers of width 64, attention and MoE variants.
        Assert.Contains("3 layers, d_model 64", File.ReadAllText(report));
        foreach (var variant in new[] { "softmax", "elliptical", "smoe", "ac-smoe" })
            Assert.True(File.Exists(Path.Combine(outDir, "lm", $"{variant}-seed0", "summary.json")), variant);
        Assert.Contains("routing diagnostics", result.Stdout);
        // Part 2: the fair contrastive methods on the embedded synthetic dataset.
        var fairReport = Path.Combine(Path.GetFullPath(outDir), "fair", "report.md");
        Assert.Contains($"report: {fairReport}", result.Stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "fair", "summary.json")));
        foreach (var method in new[] { "infonce", "fair-infonce", "cclk", "fare", "sparse-fare" })
            Assert.Contains(method, result.Stdout);
        // Part 3: softmax vs elliptical ViTs on the synthetic images.
        Assert.Contains($"report: {Path.Combine(Path.GetFullPath(outDir), "vision", "report.md")}", result.Stdout);
        foreach (var variant in new[] { "softmax", "elliptical" })
            Assert.True(File.Exists(Path.Combine(outDir, "vision", $"{variant}-seed0", "summary.json")), variant);
    }
}
