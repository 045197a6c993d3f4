using System.Reflection;
using System.Text.Json;
using StatFormer.Cli;
using StatFormer.Language.Experiments;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>--config FILE.json, the resolved options in summary.json, and the flag table covering the options tree.</summary>
[Collection(CliCollection.Name)]
public sealed class ConfigCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonElement Options(string runDir) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json"))).RootElement.GetProperty("options").Clone();

    [Fact]
    public void ConfigFileSetsTheTreeAndFlagsOverrideIt()
    {
        var config = _dir.File("run.json");
        File.WriteAllText(config, """
            { "model": { "stack": { "layers": 3, "d_model": 64, "moe": { "router": "ac_xmoe", "layer": { "experts": 4 } } } },
              "train": { "steps": 3 }, "attack": { "mode": "random_substitution" } }
            """);
        var outDir = _dir.File("out");
        // Tiny's flags but --layers, which the file sets.
        var tiny = Tiny(steps: 4, dModel: 16).ToList();
        tiny.RemoveRange(tiny.IndexOf("--layers"), 2);
        var result = Run(["lm", "train", "--config", config, "--out", outDir, .. tiny]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var options = Options(outDir);
        var stack = options.GetProperty("model").GetProperty("stack");
        Assert.Equal(3, stack.GetProperty("layers").GetInt32());         // from the file
        Assert.Equal(16, stack.GetProperty("d_model").GetInt32());       // the flag wins
        Assert.Equal("ac_xmoe", stack.GetProperty("moe").GetProperty("router").GetString());
        Assert.Equal(4, stack.GetProperty("moe").GetProperty("layer").GetProperty("experts").GetInt32());
        Assert.Equal(4, options.GetProperty("train").GetProperty("steps").GetInt32()); // Tiny's --steps 4 overrides the file's 3
        Assert.Equal("random_substitution", options.GetProperty("attack").GetProperty("mode").GetString());
        Assert.Equal(outDir, options.GetProperty("output").GetProperty("out_dir").GetString());

        // The recorded tree is itself a config file: rerunning from it reproduces the run.
        var again = _dir.File("again.json");
        File.WriteAllText(again, options.GetRawText());
        var rerun = Run(["lm", "train", "--config", again, "--out", _dir.File("out2"), "--json"]);
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Equal(JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))).RootElement.GetProperty("test_ppl").GetDouble(),
            rerun.Json().GetProperty("test_ppl").GetDouble());
    }

    [Fact]
    public void UnknownKeyIsAOneLineErrorNamingFileAndKey()
    {
        var config = _dir.File("bad.json");
        File.WriteAllText(config, """{ "model": { "stack": { "layerz": 3 } } }""");
        AssertOneLineError(Run("lm", "train", "--config", config, "--out", _dir.File("x")), "bad.json", "model.stack.layerz");
        Assert.False(Directory.Exists(_dir.File("x")));
    }

    [Theory]
    [InlineData("{ \"model\": ", "not valid JSON")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("{ \"train\": { \"steps\": \"many\" } }", "train.steps")]
    public void BadJsonIsAOneLineErrorNamingTheFile(string json, string culprit)
    {
        var config = _dir.File("broken.json");
        File.WriteAllText(config, json);
        AssertOneLineError(Run("compare", "--config", config, "--out", _dir.File("x")), "broken.json", culprit);
    }

    [Fact]
    public void MissingConfigFileIsAOneLineError() =>
        AssertOneLineError(Run("fair", "train", "--config", _dir.File("nope.json"), "--out", _dir.File("x")), "nope.json");

    [Fact]
    public void EveryModelOptionIsReachableFromTheCommandLine()
    {
        var outDir = _dir.File("moe");
        var tiny = Tiny(steps: 2);
        tiny[Array.IndexOf(tiny, "--layers") + 1] = "3";
        var result = Run(["lm", "train", "--data", "synthetic", "--out", outDir, .. tiny,
            "--attention", "elliptical", "--elliptical-layers", "2", "--estimator", "sequence", "--moe", "ac-xmoe", "--experts", "4",
            "--xmoe-dim", "4", "--expert-hidden", "12", "--ffn-multiplier", "2", "--ac-epsilon", "0.001", "--ac-clip-multiple", "5",
            "--xmoe-temperature", "0.1", "--xmoe-fixed-temperature", "--ac-momentum", "0.2", "--moe-dropout", "0", "--min-lr", "0.0001"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var options = Options(outDir);
        var stack = options.GetProperty("model").GetProperty("stack");
        var layer = stack.GetProperty("moe").GetProperty("layer");
        Assert.Equal([2], stack.GetProperty("elliptical_layers").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("sequence", stack.GetProperty("estimator").GetString());
        Assert.Equal(2, stack.GetProperty("ffn_multiplier").GetInt32());
        Assert.Equal(4, layer.GetProperty("xmoe_dim").GetInt32());
        Assert.Equal(12, layer.GetProperty("expert_hidden").GetInt32());
        Assert.Equal(0.001, layer.GetProperty("ac_epsilon").GetDouble());
        Assert.Equal(5, layer.GetProperty("ac_clip_multiple").GetDouble());
        Assert.Equal(0.1, layer.GetProperty("xmoe_temperature").GetDouble());
        Assert.False(layer.GetProperty("xmoe_learnable_temperature").GetBoolean());
        Assert.Equal(0.2, layer.GetProperty("ac_momentum").GetDouble());
        Assert.Equal(0, layer.GetProperty("dropout").GetDouble());
        Assert.Equal(0.0001, options.GetProperty("train").GetProperty("min_learning_rate").GetDouble());
    }

    /// <summary>Every settable leaf of the run tree has a flag, except the few the run sets itself.</summary>
    [Fact]
    public void TheFlagTableCoversTheRunTree()
    {
        string[] setByTheRun = ["Model.VocabSize", "Train.LogEvery"];
        // Soft MoE is refused in language models, so its options have vision flags only.
        string[] imagesOnly = ["Model.Stack.Moe.Layer.SlotsPerExpert", "Model.Stack.Moe.Layer.AcMixSlots"];
        var flagged = OptionFlags.Lm.Select(f => f.Path).ToHashSet();
        var missing = Leaves(typeof(LmRunOptions), "").Where(p => !flagged.Contains(p) && !setByTheRun.Contains(p) && !imagesOnly.Contains(p)).ToList();
        Assert.Empty(missing);
        Assert.Equal(OptionFlags.Lm.Count, flagged.Count);
    }

    [Fact]
    public void PropertyNamesInAReasonBecomeFlags() =>
        Assert.Equal("--d-model (30) must be a positive multiple of --heads (4); add --layers or lower --ac-base-layers",
            CommandRunner.InFlags("DModel (30) must be a positive multiple of Heads (4); add Layers or lower AcBaseLayers", "Model.Stack.Moe.AcBaseLayers"));

    private static IEnumerable<string> Leaves(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanWrite || property.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is not null) continue;
            var path = prefix + property.Name;
            var t = property.PropertyType;
            if (t.IsClass && t != typeof(string) && !t.IsGenericType) foreach (var leaf in Leaves(t, path + ".")) yield return leaf;
            else yield return path;
        }
    }
}
