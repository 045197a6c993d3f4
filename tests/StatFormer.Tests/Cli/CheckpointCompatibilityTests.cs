using System.Text.Json;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>
/// Run folders written by the build before the one-transformer-core restructuring (checkpoint format 2,
/// flat model configuration, parameter names of that day): `lm eval --run` must still load them and
/// reproduce the test perplexity their summary.json recorded.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class CheckpointCompatibilityTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("elliptical")]
    [InlineData("acsmoe")]
    public void LmEvalReproducesAnOldRunsTestPerplexity(string fixture)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints-v2", fixture);
        Assert.True(File.Exists(Path.Combine(source, "checkpoint.bin")), $"fixture run folder missing: {source}");
        var run = _dir.File(fixture);
        Directory.CreateDirectory(run);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        using var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));

        var eval = Run("lm", "eval", "--run", run, "--json");

        Assert.True(eval.ExitCode == 0, eval.ToString());
        var expected = recorded.RootElement.GetProperty("test_ppl").GetDouble();
        var actual = eval.Json().GetProperty("test_ppl").GetDouble();
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * expected, $"test ppl {actual:R}, the old build recorded {expected:R}");
    }
}
