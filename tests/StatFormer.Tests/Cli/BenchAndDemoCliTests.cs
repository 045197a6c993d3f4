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
            foreach (var key in new[] { "softmax_ms", "elliptical_ms", "elliptical_explicit_ms", "ratio_elliptical_softmax" })
            {
                var value = row.GetProperty(key).GetDouble();
                Assert.True(double.IsFinite(value) && value > 0, $"{key} = {value}");
            }
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
