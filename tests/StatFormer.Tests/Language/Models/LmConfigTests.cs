using StatFormer.Attention;
using StatFormer.Language.Models;
using StatFormer.Moe;

namespace StatFormer.Tests.Language.Models;

/// <summary>The model options tree: its JSON (nested, and the flat layout of the previous build) and its validation paths.</summary>
public class LmConfigTests
{
    [Fact]
    public void TheFlatConfigurationOfThePreviousBuildReadsIntoTheTree()
    {
        const string flat = "{\"vocab_size\":283,\"layers\":3,\"d_model\":16,\"heads\":2,\"seq_len\":16,\"dropout\":0.1,\"ffn_multiplier\":4," +
            "\"attention\":\"elliptical\",\"estimator\":\"sequence\",\"elliptical_unscaled\":true,\"elliptical_layers\":[2],\"moe\":\"ac_xmoe\"," +
            "\"experts\":4,\"top_k\":1,\"moe_every\":2,\"balance_weight\":0.02,\"capacity_factor\":1.25,\"ac_base_layers\":1,\"ac_mix_top_k\":true," +
            "\"ac_estimator\":\"batch\",\"xmoe_dim\":6,\"expert_hidden\":24}";
        var config = LmConfig.FromJson(flat);
        Assert.Equal((283, 16), (config.VocabSize, config.SeqLen));
        var s = config.Stack;
        Assert.Equal((3, 16, 2, 0.1, 4), (s.Layers, s.DModel, s.Heads, s.Dropout, s.FfnMultiplier));
        Assert.Equal((AttentionKind.Elliptical, EllipticalEstimator.Sequence, true), (s.Attention, s.Estimator, s.EllipticalUnscaled));
        Assert.Equal(new[] { 2 }, s.EllipticalLayers);
        Assert.Equal((MoeKind.AcXmoe, 2, 0.02, 1), (s.Moe.Router, s.Moe.Every, s.Moe.BalanceWeight, s.Moe.AcBaseLayers));
        var layer = s.Moe.Layer;
        Assert.Equal((4, 1, 1.25, true, AcEstimator.Batch, 6, (int?)24), (layer.Experts, layer.TopK, layer.CapacityFactor, layer.AcMixTopK, layer.AcEstimator, layer.XmoeDim, layer.ExpertHidden));
        // The layer dropout follows the stack's, as the flat layout's single dropout did.
        Assert.Null(layer.Dropout);
        Assert.Equal(0.1, s.EffectiveMoeOptions.Dropout);
    }

    [Fact]
    public void ToJsonWritesTheNestedTreeAndReadsItBack()
    {
        var config = new LmConfig
        {
            VocabSize = 30, SeqLen = 8,
            Stack = new() { Layers = 3, Attention = AttentionKind.Elliptical, Moe = new() { Router = MoeKind.Smoe, Layer = new() { Experts = 4, TopK = 1 } } },
        };
        var json = config.ToJson();
        Assert.StartsWith("{\"vocab_size\":30,\"seq_len\":8,\"stack\":{\"layers\":3,", json);
        Assert.Contains("\"moe\":{\"router\":\"smoe\",\"every\":1,", json);
        Assert.Contains("\"layer\":{\"experts\":4,\"top_k\":1,\"expert_hidden\":null,", json);
        Assert.Equal(json, LmConfig.FromJson(json).ToJson());
        // Expert width defaults to FfnMultiplier·DModel/TopK, so a token's active FFN parameters match the dense model's.
        Assert.Equal(4 * 128 / 1, config.Stack.EffectiveExpertHidden);
    }

    [Theory]
    [InlineData(1, 4, "VocabSize")]
    [InlineData(20, 0, "SeqLen")]
    public void ValidationNamesThePropertyPath(int vocab, int seqLen, string path)
    {
        var error = Assert.Throws<ArgumentException>(new LmConfig { VocabSize = vocab, SeqLen = seqLen }.Validate);
        Assert.Equal(path, error.ParamName);
    }

    [Fact]
    public void NestedValidationPrefixesThePath()
    {
        var error = Assert.Throws<ArgumentException>(new LmConfig { VocabSize = 20, Stack = new() { DModel = 30, Heads = 4 } }.Validate);
        Assert.Equal("Stack.Heads", error.ParamName);
        error = Assert.Throws<ArgumentException>(new LmConfig { VocabSize = 20, Stack = new() { Moe = new() { Router = MoeKind.Smoe, Every = 3 } } }.Validate);
        Assert.Equal("Stack.Moe.Every", error.ParamName);
        Assert.DoesNotContain("--", error.Message);
    }
}
