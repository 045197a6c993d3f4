using System.Reflection;
using StatFormer.Cli;
using StatFormer.Probes.Elliptical;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class ProbeCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] TinyElliptical =
        ["--key-dim", "3", "--pairs", "8", "--relevant", "1,2", "--noise", "0.1", "--contamination", "0,0.3", "--d-model", "8", "--steps", "2",
         "--batch-size", "4", "--eval-sequences", "8", "--seeds", "2"];

    [Fact]
    public void ProbeEllipticalWritesItsFilesAndFindings()
    {
        var outDir = Path.Combine(_dir.Path, "e");
        var result = Run(["probe", "elliptical", .. TinyElliptical, "--out", outDir]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("theory predicts", result.Stdout);
        AssertPng(Path.Combine(outDir, "mse-vs-relevant.png"));
        AssertPng(Path.Combine(outDir, "m-vs-relevance.png"));
        Assert.Contains("## Findings", File.ReadAllText(Path.Combine(outDir, "report.md")));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "probe.json")));
        Assert.Equal(3, json.RootElement.GetProperty("result").GetProperty("cells").GetArrayLength());
        // One line per setting, the kernel reference and m.
        Assert.Equal(5, json.RootElement.GetProperty("findings").GetArrayLength());
    }

    [Fact]
    public void ProbeEllipticalJsonIsDeterministic()
    {
        var a = Run(["probe", "elliptical", .. TinyElliptical, "--json", "--out", Path.Combine(_dir.Path, "a")]);
        var b = Run(["probe", "elliptical", .. TinyElliptical, "--json", "--out", Path.Combine(_dir.Path, "b")]);
        Assert.True(a.ExitCode == 0, a.ToString());
        var mse = (CliResult r) => r.Json().GetProperty("result").GetProperty("runs").EnumerateArray().Select(x => x.GetProperty("mse").GetDouble()).ToList();
        // To float rounding (libtorch may sum in another order between runs in one process).
        Assert.All(mse(a).Zip(mse(b)), p => Assert.Equal(p.First, p.Second, 1e-6));
    }

    [Theory]
    [InlineData("--relevant", "9", "--relevant")]
    [InlineData("--contamination", "2", "--contamination")]
    [InlineData("--seeds", "0", "--seeds")]
    [InlineData("--heads", "3", "--heads")]
    public void BadProbeFlagsAreOneLineErrors(string flag, string value, string culprit) =>
        AssertOneLineError(Run("probe", "elliptical", flag, value, "--out", Path.Combine(_dir.Path, "bad")), culprit);

    [Fact]
    public void ProbeFareWritesItsFilesAndFindings()
    {
        var outDir = Path.Combine(_dir.Path, "fare");
        var result = Run("probe", "fare", "--features", "6", "--hidden", "8", "--representation", "4", "--steps", "3", "--batch-size", "16",
            "--train-samples", "64", "--test-samples", "32", "--seeds", "2", "--methods", "infonce,fare", "--out", outDir);
        Assert.True(result.ExitCode == 0, result.ToString());
        AssertPng(Path.Combine(outDir, "accuracy-vs-bias.png"));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "probe.json")));
        // Bias removed and accuracy kept for fare, and its attention against the ideal.
        Assert.Equal(3, json.RootElement.GetProperty("findings").GetArrayLength());
    }

    [Fact]
    public void BadProbeFareBatchIsAOneLineError() =>
        AssertOneLineError(Run("probe", "fare", "--batch-size", "2", "--out", Path.Combine(_dir.Path, "bad")), "--batch-size");

    /// <summary>Every settable property of a probe's options has a flag.</summary>
    [Fact]
    public void TheProbeFlagTablesCoverTheOptions()
    {
        var flagged = OptionFlags.ProbeElliptical.Select(f => f.Path).ToHashSet();
        var properties = typeof(EllipticalProbeOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
        Assert.DoesNotContain(properties, p => !flagged.Contains(p));
    }
}
