using System.Reflection;
using System.Text.Json;
using StatFormer.Cli;
using StatFormer.Reporting;
using StatFormer.Tests.Training;
using StatFormer.Vision.Experiments;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>`vision train` and `vision eval` end to end on tiny synthetic images; their errors; the flag table covers the run tree.</summary>
[Collection(CliCollection.Name)]
public sealed class VisionCliTests
{
    /// <summary>A 4-class 1×8×8 synthetic set and a one-block ViT: seconds on one core.</summary>
    internal static string[] TinyVision(string outDir, int steps = 4) =>
    [
        "--data", "synthetic", "--synthetic-classes", "4", "--synthetic-channels", "1", "--synthetic-size", "8", "--synthetic-patch", "4",
        "--synthetic-informative", "2", "--synthetic-train", "96", "--synthetic-test", "48",
        "--layers", "2", "--d-model", "16", "--heads", "2", "--steps", $"{steps}", "--warmup", "1", "--batch-size", "16",
        "--pgd-steps", "2", "--attack-images", "32", "--diagnostic-images", "16", "--out", outDir,
    ];

    private static readonly string[] Attacks = ["--attacks", "fgsm,pgd", "--eps", "1/255,4/255"];

    [Fact]
    public void TrainThenEvalTheSameRun()
    {
        using var dir = new TempDir();
        var train = Run(["vision", "train", .. TinyVision(dir.Path), .. Attacks, "--attention", "elliptical", "--json"]);
        Assert.True(train.ExitCode == 0, train.ToString());
        var summary = train.Json();
        Assert.Equal("elliptical", summary.GetProperty("variant").GetString());
        var curves = summary.GetProperty("robustness").GetProperty("curves");
        Assert.Equal(["fgsm", "pgd"], curves.EnumerateArray().Select(c => c.GetProperty("attack").GetString()!));
        Assert.Equal(4.0 / 255, curves[0].GetProperty("points")[1].GetProperty("epsilon").GetDouble(), 12);
        AssertPng(Path.Combine(dir.Path, VisionExperiment.RobustnessFileName));

        // The run's final weights, evaluated again: the same clean accuracy on the same test images.
        var eval = Run("vision", "eval", "--run", dir.Path, "--attacks", "fgsm", "--eps", "2/255", "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var result = eval.Json();
        Assert.Equal(summary.GetProperty("clean_accuracy").GetDouble(), result.GetProperty("clean").GetProperty("accuracy").GetDouble());
        var curve = Assert.Single(result.GetProperty("robustness").GetProperty("curves").EnumerateArray());
        Assert.Equal("fgsm", curve.GetProperty("attack").GetString());

        var table = Run("vision", "eval", "--run", dir.Path, "--attacks", "pgd", "--eps", "8/255", "--eval-estimator", "median");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("ε=8/255", table.Stdout);
        Assert.Contains("median", table.Stdout);
    }

    [Fact]
    public void CompareWritesAReportAndAResumeReusesItsRuns()
    {
        using var dir = new TempDir();
        string[] args = ["vision", "compare", .. TinyVision(dir.Path, steps: 3), .. Attacks, "--seeds", "2", "--variants", "softmax,elliptical-median,resnet18", "--example-images", "4"];
        var first = Run([.. args, "--json"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        var summary = first.Json();
        Assert.Equal(["softmax", "elliptical-median", "resnet18"], summary.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("variant").GetString()!));
        Assert.Equal(6, summary.GetProperty("runs").GetArrayLength());
        Assert.Equal("median", summary.GetProperty("variants")[1].GetProperty("eval_estimator").GetString());
        foreach (var plot in summary.GetProperty("plots").EnumerateArray()) AssertPng(Path.Combine(dir.Path, plot.GetString()!));
        Assert.Contains(summary.GetProperty("plots").EnumerateArray(), p => p.GetString() == VisionComparisonReport.ExampleGridFileName);
        var report = File.ReadAllText(Path.Combine(dir.Path, "report.md"));
        Assert.Contains("| softmax |", report);
        Assert.Contains("fgsm 4/255 %", report);

        var resumed = Run([.. args, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("finished earlier, reusing", resumed.Stdout + resumed.Stderr);
        var again = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "summary.json"))).RootElement;
        Assert.Equal(Canonical(summary.GetProperty("variants")), Canonical(again.GetProperty("variants")));
    }

    /// <summary>MoE flags shape the MoE variants only: the softmax ViT stays dense beside an AC-XMoE ViT with 4 experts in every block.</summary>
    [Fact]
    public void CompareTrainsMoeVariantsWithTheMoeFlags()
    {
        using var dir = new TempDir();
        var result = Run(["vision", "compare", .. TinyVision(dir.Path, steps: 3), .. Attacks, "--seeds", "1", "--variants", "softmax,ac-xmoe,smoe",
            "--experts", "4", "--top-k", "1", "--moe-every", "1", "--balance-weight", "0.02", "--capacity-factor", "1.5", "--ac-base-layers", "1", "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var variants = result.Json().GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(["softmax", "ac-xmoe", "smoe"], variants.Select(v => v.GetProperty("variant").GetString()!));
        var parameters = variants.Select(v => v.GetProperty("params").GetInt64()).ToList();
        // Four experts of width 2·16/1 in both blocks, plus routers, outnumber one dense FFN per block.
        Assert.True(parameters[1] > parameters[0] && parameters[2] > parameters[0], string.Join(", ", parameters));
        // The MoE variants carry routing diagnostics (aggregate and per MoE layer); the dense one has none.
        Assert.Equal(JsonValueKind.Null, variants[0].GetProperty("routing").ValueKind);
        Assert.Equal(2, variants[1].GetProperty("routing_layers").GetArrayLength());
        Assert.InRange(variants[2].GetProperty("routing").GetProperty("topic_nmi").GetProperty("mean").GetDouble(), 0, 1);
        var plots = result.Json().GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(VisionComparisonReport.RoutingFileName, plots);
        Assert.Contains(VisionComparisonReport.ExpertLoadFileName("ac-xmoe"), plots);
        foreach (var plot in plots) AssertPng(Path.Combine(dir.Path, plot));
        var report = File.ReadAllText(Path.Combine(dir.Path, "report.md"));
        Assert.Contains("Routing diagnostics", report);
        Assert.Contains("class NMI", report);
        AssertOneLineError(Run(["vision", "train", .. TinyVision(dir.Path), "--moe", "ac-smoe", "--moe-every", "2"]), "--ac-base-layers");
    }

    [Fact]
    public void BenchVisionReportsTheStepRatioAndAttackThroughput()
    {
        var result = Run("bench", "vision", "--json", "--batch", "4", "--image-size", "8", "--layers", "2", "--d-model", "16", "--heads", "2",
            "--repeats", "1", "--rounds", "1", "--pairs", "2", "--pgd-steps", "2", "--spsa-iterations", "1", "--spsa-samples", "2");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(5, json.GetProperty("tokens").GetInt32());
        Assert.True(json.GetProperty("ratio").GetDouble() > 0);
        var moe = json.GetProperty("moe").EnumerateArray().ToList();
        Assert.Equal(["ac-smoe", "ac-soft-moe"], moe.Select(m => m.GetProperty("ac").GetString()!));
        Assert.Equal(["smoe", "soft-moe"], moe.Select(m => m.GetProperty("base").GetString()!));
        Assert.All(moe, m => Assert.True(m.GetProperty("ratio").GetDouble() > 0 && m.GetProperty("ac_step_ms").GetDouble() > 0));
        var attacks = json.GetProperty("attacks");
        Assert.Equal(2, attacks.GetProperty("pgd_steps").GetInt32());
        // PGD-k costs at least about k forward+backward passes.
        Assert.True(attacks.GetProperty("pgd_ratio").GetDouble() > 0.5, result.Stdout);
        Assert.True(attacks.GetProperty("clean_images_per_second").GetDouble() > attacks.GetProperty("pgd_images_per_second").GetDouble());
        AssertOneLineError(Run("bench", "vision", "--layers", "1"), "--layers");
        AssertOneLineError(Run("bench", "vision", "--pairs", "0"), "--pairs");

        var cpu = Run("bench", "vision", "--clock", "cpu", "--batch", "4", "--image-size", "8", "--layers", "2", "--d-model", "16", "--heads", "2",
            "--repeats", "1", "--rounds", "1", "--pairs", "2", "--pgd-steps", "2", "--spsa-iterations", "1", "--spsa-samples", "2");
        Assert.True(cpu.ExitCode == 0, cpu.ToString());
        Assert.Contains("cpu clock", cpu.Stdout);
        AssertOneLineError(Run("bench", "vision", "--clock", "sundial"), "--clock");
    }

    [Fact]
    public void BadValuesAreOneLineErrorsNamingTheFlag()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run(["vision", "train", .. TinyVision(dir.Path), .. Attacks, "--patch-size", "3"]), "--patch-size", "does not divide");
        AssertOneLineError(Run(["vision", "train", .. TinyVision(dir.Path), "--eps", "1/0"]), "--eps");
        AssertOneLineError(Run(["vision", "train", .. TinyVision(dir.Path), "--attacks", "fgsm,cw"]), "--attacks", "cw");
        AssertOneLineError(Run(["vision", "train", .. TinyVision(dir.Path), .. Attacks, "--eval-estimator", "causal"]), "--eval-estimator");
        AssertOneLineError(Run("vision", "eval", "--run", Path.Combine(dir.Path, "missing")), "missing", "no such folder");
    }

    /// <summary>Every settable leaf of the vision run tree has a flag, except the MoE layer's router internals (XMoE dimensions, AC constants: the LM's flags) and what the run sets itself.</summary>
    [Fact]
    public void TheFlagTableCoversTheRunTree()
    {
        var flagged = OptionFlags.Vision.Select(f => f.Path).ToHashSet();
        var missing = Leaves(typeof(VisionRunOptions), "").Where(p => !flagged.Contains(p) && p != "Train.LogEvery" && !p.StartsWith("Model.Stack.Moe.Layer.", StringComparison.Ordinal)).ToList();
        Assert.Empty(missing);
        Assert.Equal(OptionFlags.Vision.Count, flagged.Count);
    }

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
