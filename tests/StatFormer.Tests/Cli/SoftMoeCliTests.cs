using System.Text.Json;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>Soft MoE from the command line: `vision compare` trains soft-moe and ac-soft-moe ViTs with the slot flags; language models refuse it in one line.</summary>
[Collection(CliCollection.Name)]
public sealed class SoftMoeCliTests
{
    [Fact]
    public void VisionCompareTrainsSoftMoeVariantsInTheVMoeLayout()
    {
        using var dir = new TempDir();
        var tiny = VisionCliTests.TinyVision(dir.Path, steps: 3);
        tiny[Array.IndexOf(tiny, "--layers") + 1] = "4";
        var result = Run(["vision", "compare", .. tiny, "--attacks", "fgsm", "--eps", "1/255", "--seeds", "1",
            "--variants", "soft-moe,ac-soft-moe", "--experts", "2", "--slots-per-expert", "3", "--moe-every", "2", "--first-moe-layer", "1",
            "--ac-mix-slots", "2", "--ac-epsilon", "0.35", "--ac-clip-multiple", "5", "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var variants = json.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(["soft-moe", "ac-soft-moe"], variants.Select(v => v.GetProperty("variant").GetString()!));
        // MoE in blocks 1 and 3: two MoE layers with routing diagnostics each.
        Assert.All(variants, v => Assert.Equal(2, v.GetProperty("routing_layers").GetArrayLength()));
        var layer = json.GetProperty("runs")[1].GetProperty("options").GetProperty("model").GetProperty("stack").GetProperty("moe");
        Assert.Equal("ac_soft_moe", layer.GetProperty("router").GetString());
        Assert.Equal(1, layer.GetProperty("first_moe_layer").GetInt32());
        Assert.Equal(3, layer.GetProperty("layer").GetProperty("slots_per_expert").GetInt32());
        Assert.Equal("router_and_experts", layer.GetProperty("layer").GetProperty("ac_scaled_input").GetString());
        Assert.Equal(0.35, layer.GetProperty("layer").GetProperty("ac_epsilon").GetDouble());
        Assert.Equal(JsonValueKind.Number, variants[1].GetProperty("routing").GetProperty("topic_nmi").GetProperty("mean").ValueKind);
    }

    [Fact]
    public void LanguageModelsRefuseSoftMoeInOneLine()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run(["lm", "train", "--data", "synthetic", "--out", dir.File("lm"), .. Tiny(steps: 2), "--moe", "soft-moe"]), "--moe", "image models only");
        AssertOneLineError(Run(["compare", "--data", "synthetic", "--out", dir.File("cmp"), .. Tiny(steps: 2), "--variants", "softmax,ac-soft-moe"]), "--variants", "image models only");
    }
}
