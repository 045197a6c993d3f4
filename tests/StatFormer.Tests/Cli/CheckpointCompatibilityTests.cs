using System.Text.Json;
using StatFormer.Fairness.Experiments;
using StatFormer.Reporting;
using StatFormer.Tests.Training;
using StatFormer.Training;
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

    [Fact]
    public void AnOldFairCheckpointsWeightsLoadIntoTheRebuiltModelAndReproduceItsProbes()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints-v2", "fare");
        var run = _dir.File("fare");
        Directory.CreateDirectory(run);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        using var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));
        // The old summary's options are flat; FairRunSummary reads them into today's tree.
        var saved = recorded.RootElement.Deserialize<FairRunSummary>(JsonOutput.Options)!.Options;
        var options = saved with { Output = saved.Output with { OutDir = run, Resume = true } };

        // Strict load by parameter name into the FairContrastiveModel this build constructs.
        using var data = FairExperiment.LoadData(options);
        using (var model = FairExperiment.BuildModel(options, data))
        {
            var before = model.parameters().Select(p => p.clone()).ToList();
            Checkpoint.Load(Path.Combine(run, Trainer.CheckpointFileName), model);
            Assert.Contains(model.parameters().Zip(before), pair => !pair.First.eq(pair.Second).all().item<bool>());
        }

        // The finished run, resumed, trains nothing and probes the loaded weights: the recorded results come back.
        var summary = FairExperiment.Run(options, data: data);
        Assert.Equal(recorded.RootElement.GetProperty("steps").GetInt64(), summary.Steps);
        Assert.Equal(recorded.RootElement.GetProperty("target_accuracy").GetDouble(), summary.TargetAccuracy, 9);
        // The probe reads float32 features: another CPU's kernels (AVX-512 vs AVX2) move them by an ulp, and the
        // regression's MSE by ~1e-9 relative (seen in CI). A wrong load moves it by orders of magnitude more.
        var expectedZMse = recorded.RootElement.GetProperty("z_mse").GetDouble();
        Assert.True(Math.Abs(expectedZMse - summary.ZMse!.Value) <= 1e-6 * expectedZMse, $"z mse {summary.ZMse!.Value:R}, the old build recorded {expectedZMse:R}");
    }
}
