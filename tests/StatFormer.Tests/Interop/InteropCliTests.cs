using System.Text.Json.Nodes;
using StatFormer.Language.Experiments;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;
using TorchSharp;
using Xunit.Abstractions;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Interop;

/// <summary>`statformer export`, `lm eval --weights` and `lm train --init-from` on tiny runs.</summary>
[Collection(CliCollection.Name)]
public sealed class InteropCliTests(ITestOutputHelper output) : IDisposable
{
    private readonly ITestOutputHelper _output = output;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static CliResult Train(string outDir, int seed, params string[] extra) => Train(outDir, seed, 4, extra);

    private static CliResult Train(string outDir, int seed, int steps, params string[] extra) =>
        Run(["lm", "train", "--data", "synthetic", "--seed", $"{seed}", "--out", outDir, "--json", "--dropout", "0", .. Tiny(steps: steps), .. extra]);

    private static double TestPpl(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json().GetProperty("test_ppl").GetDouble();
    }

    [Theory]
    [InlineData("model.safetensors", "safetensors")]
    [InlineData("model.pt", "pytorch")]
    public void Export_writes_weights_pytorch_reproduces_and_a_config_tree_beside_them(string fileName, string format)
    {
        var run = _dir.File("run");
        Assert.Equal(0, Train(run, seed: 0).ExitCode);
        var weights = Path.Combine(_dir.File("export"), fileName);

        var export = Run("export", "--run", run, "--out", weights);

        Assert.True(export.ExitCode == 0, export.ToString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(weights)!, "config.json")))!.AsObject();
        Assert.Equal("lm", config["kind"]!.GetValue<string>());
        Assert.Equal(format, config["format"]!.GetValue<string>());
        Assert.Equal(fileName, config["weights"]!.GetValue<string>());
        Assert.Equal("word", config["tokenizer"]!["kind"]!.GetValue<string>());

        // PyTorch rebuilds the model from config.json's tree and loads the file: the run's own logits.
        var modelTree = _dir.File("model.json");
        File.WriteAllText(modelTree, config["model"]!.ToJsonString());
        var ids = _dir.File("ids.json");
        File.WriteAllText(ids, "[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,0],[3,1,4,1,5,9,2,6,5,3,5,8,9,7,9,3]]");
        PyTorchReference.Run("lm-logits", weights, modelTree, ids, _dir.File("logits.f32"));
        using var trained = TrainedLmRun.Load(run);
        trained.Model.eval();
        using var input = PyTorchReference.ReadIds(ids);
        float[] ours;
        using (torch.no_grad())
        using (var logits = trained.Model.forward(input))
            ours = logits.data<float>().ToArray();
        var difference = PyTorchReference.MaxAbsDifference(ours, PyTorchReference.ReadFloats(_dir.File("logits.f32")));
        _output.WriteLine($"max |Δlogit| vs PyTorch {difference:E2}");
        Assert.True(difference < 1e-5, $"max |Δlogit| vs PyTorch {difference:E2}");
    }

    [Fact]
    public void Eval_with_weights_scores_the_file_and_train_init_from_starts_from_it()
    {
        var (first, second) = (_dir.File("first"), _dir.File("second"));
        var firstPpl = TestPpl(Train(first, seed: 0));
        var secondPpl = TestPpl(Train(second, seed: 1));
        var weights = _dir.File("first.safetensors");
        Assert.Equal(0, Run("export", "--run", first, "--out", weights).ExitCode);

        // The second run's data and windows, the first run's weights: the first run's perplexity.
        var eval = Run("lm", "eval", "--run", second, "--weights", weights, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var evaluated = eval.Json().GetProperty("test_ppl").GetDouble();
        Assert.True(Math.Abs(evaluated - firstPpl) <= 1e-9 * firstPpl, $"{evaluated:R} vs the first run's {firstPpl:R} (second run: {secondPpl:R})");
        Assert.NotEqual(firstPpl, secondPpl);

        // Without --run, config.json beside the file rebuilds the model and tokenizer: the first run's own evaluation.
        var alone = Run(["lm", "eval", "--weights", weights, "--data", "synthetic", "--batch-size", "4", "--eval-tokens", "512", "--attack-rates", "0.1,0.2", "--json"]);
        Assert.True(alone.ExitCode == 0, alone.ToString());
        var ownEval = Run("lm", "eval", "--run", first, "--json");
        Assert.Equal(ownEval.Json().GetProperty("test_ppl").GetDouble(), alone.Json().GetProperty("test_ppl").GetDouble(), 9);

        // One step at a negligible learning rate from the first run's weights stays at its perplexity.
        var tuned = TestPpl(Train(_dir.File("tuned"), seed: 1, steps: 1, "--init-from", weights, "--lr", "1e-9"));
        Assert.True(Math.Abs(tuned - firstPpl) <= 1e-4 * firstPpl, $"fine-tuned from the file: {tuned:R}, the file's run: {firstPpl:R}");
    }

    [Fact]
    public void Init_from_a_file_of_another_shape_is_one_error_listing_the_keys()
    {
        var run = _dir.File("run");
        Assert.Equal(0, Train(run, seed: 0).ExitCode);
        var weights = _dir.File("w.pt");
        Assert.Equal(0, Run("export", "--run", run, "--out", weights).ExitCode);

        // Tiny's model with a third layer.
        var result = Run("lm", "train", "--data", "synthetic", "--out", _dir.File("deeper"), "--layers", "3", "--d-model", "16", "--heads", "2",
            "--seq-len", "16", "--steps", "1", "--init-from", weights);

        AssertOneLineError(result, weights, "missing: blocks.2.ln1.weight");
        Assert.Contains("does not fit the model", result.Stderr);
    }

    [Fact]
    public void Export_of_a_folder_without_a_run_and_an_unknown_extension_are_one_line_errors()
    {
        AssertOneLineError(Run("export", "--run", _dir.File("nothing"), "--out", _dir.File("a.safetensors")), "no such folder");
        var run = _dir.File("run");
        Assert.Equal(0, Train(run, seed: 0).ExitCode);
        AssertOneLineError(Run("export", "--run", run, "--out", _dir.File("weights.dat")), "--format");
        AssertOneLineError(Run("lm", "train", "--data", "synthetic", "--out", _dir.File("x"), "--init-from", _dir.File("missing.pt")), "--init-from", "no such file");
    }
}
