using System.Text.Json;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class LmTrainEvalCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CliResult Train(string outDir, int seed = 0, string attention = "softmax") =>
        Run(["lm", "train", "--data", "synthetic", "--attention", attention, "--seed", $"{seed}", "--out", outDir, "--json", .. Tiny(steps: 4)]);

    private static double Number(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Abs(expected), $"{what}: {expected:R} vs {actual:R}");

    [Fact]
    public void TrainJsonWritesRunFolderAndEvalReproducesTheSummary()
    {
        var run = _dir.File("run");
        var train = Train(run, attention: "elliptical");
        Assert.True(train.ExitCode == 0, train.ToString());

        // stdout is nothing but the JSON summary (progress goes to stderr).
        var json = train.Json();
        foreach (var key in new[] { "attention", "params", "steps", "seed", "valid_ppl", "test_ppl", "attacked_test_ppl", "tokens_per_second" })
            Assert.True(json.TryGetProperty(key, out _), $"missing '{key}' in {train.Stdout}");
        Assert.Equal("elliptical", json.GetProperty("attention").GetString());
        Assert.Equal(4, json.GetProperty("steps").GetInt64());
        Assert.Equal(0, json.GetProperty("seed").GetInt32());
        Assert.True(json.GetProperty("params").GetInt64() > 0);
        Assert.True(Number(json, "tokens_per_second") > 0);
        var testPpl = Number(json, "test_ppl");
        Assert.True(double.IsFinite(testPpl) && testPpl > 1, $"test_ppl {testPpl}");
        var attacked = json.GetProperty("attacked_test_ppl");
        Assert.Equal(JsonValueKind.Object, attacked.ValueKind);
        Assert.Equal(new[] { "0.1", "0.2" }, attacked.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.All(attacked.EnumerateObject(), p => Assert.True(p.Value.GetDouble() > 1));

        foreach (var file in new[] { "summary.json", "metrics.jsonl", "checkpoint.bin", "best_model.bin" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing");
        AssertPng(Path.Combine(run, "learning_curve.png"));
        using (var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))))
            Assert.Equal(testPpl, Number(written.RootElement, "test_ppl"));
        Assert.Contains(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")), l => l.Contains("\"split\":\"valid\""));

        // Same weights, same windows, same attack draw: the numbers the summary reported.
        var eval = Run("lm", "eval", "--run", run, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var evaluated = eval.Json();
        AssertClose(testPpl, Number(evaluated, "test_ppl"), "test_ppl");
        AssertClose(Number(json, "valid_ppl"), Number(evaluated, "valid_ppl"), "valid_ppl");
        foreach (var rate in attacked.EnumerateObject())
            AssertClose(rate.Value.GetDouble(), evaluated.GetProperty("attacked_test_ppl").GetProperty(rate.Name).GetDouble(), $"attacked {rate.Name}");
        Assert.Equal(json.GetProperty("eval_tokens").GetInt64(), evaluated.GetProperty("eval_tokens").GetInt64());

        // Options given to eval still win over the run's settings.
        var narrower = Run("lm", "eval", "--run", run, "--json", "--eval-tokens", "128", "--attack-rates", "0.3");
        Assert.True(narrower.ExitCode == 0, narrower.ToString());
        Assert.Equal(127, narrower.Json().GetProperty("eval_tokens").GetInt64());
        Assert.Equal(new[] { "0.3" }, narrower.Json().GetProperty("attacked_test_ppl").EnumerateObject().Select(p => p.Name).ToArray());

        // A corrupt best_model.bin is a user error naming the file, not a crash.
        File.WriteAllText(Path.Combine(run, "best_model.bin"), "garbage");
        AssertOneLineError(Run("lm", "eval", "--run", run, "--json"), "best_model.bin");
    }

    [Fact]
    public void ResumeIntoTheFolderOfAnotherAttentionIsAOneLineError()
    {
        var run = _dir.File("run");
        Assert.Equal(0, Train(run, attention: "softmax").ExitCode);
        var resumed = Run(["lm", "train", "--data", "synthetic", "--attention", "elliptical", "--out", run, "--resume", "--json", .. Tiny(steps: 4)]);
        AssertOneLineError(resumed, "--resume", "checkpoint.bin", "attention");
        Assert.Equal("", resumed.Stdout);
    }

    [Fact]
    public void SameSeedSameNumbersOtherSeedOtherNumbers()
    {
        var a = Train(_dir.File("a"), seed: 3);
        var b = Train(_dir.File("b"), seed: 3);
        var c = Train(_dir.File("c"), seed: 4);
        foreach (var r in new[] { a, b, c }) Assert.True(r.ExitCode == 0, r.ToString());
        var (ja, jb, jc) = (a.Json(), b.Json(), c.Json());

        foreach (var key in new[] { "valid_ppl", "test_ppl", "final_train_loss" })
            Assert.Equal(Number(ja, key), Number(jb, key));
        Assert.Equal(Canonical(ja.GetProperty("attacked_test_ppl")), Canonical(jb.GetProperty("attacked_test_ppl")));

        Assert.NotEqual(Number(ja, "valid_ppl"), Number(jc, "valid_ppl"));
        Assert.NotEqual(Number(ja, "test_ppl"), Number(jc, "test_ppl"));
        Assert.NotEqual(Canonical(ja.GetProperty("attacked_test_ppl")), Canonical(jc.GetProperty("attacked_test_ppl")));
        // The attack draw does not depend on the model seed.
        Assert.Equal(Canonical(ja.GetProperty("attack_effective_rate")), Canonical(jc.GetProperty("attack_effective_rate")));
    }
}
