using StatFormer.Attention;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Transformer;

/// <summary>The Transformer core on its own: encoder (non-causal) use, padding, the intermediates record, and the LM as a thin wrapper of it.</summary>
public class TransformerStackTests
{
    private const int DModel = 16;
    private const int Heads = 2;

    private static TransformerStackOptions Options(AttentionKind attention = AttentionKind.Elliptical, MoeKind router = MoeKind.Smoe, int every = 2, int layers = 3) => new()
    {
        Layers = layers, DModel = DModel, Heads = Heads, Dropout = 0.0, Attention = attention,
        Moe = new() { Router = router, Every = every, Layer = new() { Experts = 4, TopK = 2 } },
    };

    private static TransformerStack Stack(TransformerStackOptions options, bool causal)
    {
        torch.manual_seed(11);
        var stack = new TransformerStack(options, causal);
        stack.eval();
        return stack;
    }

    /// <summary>Max |Δoutput| at each position when position <paramref name="changed"/> of the input is replaced.</summary>
    private static float[] ChangePerPosition(TransformerStack stack, int changed, Tensor? keyPaddingMask = null)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var x = randn(new long[] { 2, 6, DModel }, generator: new Generator(3));
        var edited = x.clone();
        edited[.., changed] = randn(new long[] { 2, DModel }, generator: new Generator(4));
        var clean = stack.forward(x, keyPaddingMask, false).Output;
        var after = stack.forward(edited, keyPaddingMask, false).Output;
        return (clean - after).abs().amax(new long[] { 0, 2 }).data<float>().ToArray();
    }

    [Theory]
    [InlineData(AttentionKind.Softmax, MoeKind.None)]
    [InlineData(AttentionKind.Elliptical, MoeKind.Smoe)]
    public void AnEncoderTokenSeesLaterTokensACausalOneDoesNot(AttentionKind attention, MoeKind router)
    {
        var options = Options(attention, router);
        var encoder = ChangePerPosition(Stack(options, causal: false), changed: 5);
        Assert.All(encoder, d => Assert.True(d > 1e-5f, $"every position of an encoder must depend on the last token ({string.Join(", ", encoder)})"));
        var decoder = ChangePerPosition(Stack(options, causal: true), changed: 5);
        // Not bit-exact: with several threads an edited row can change the kernels' blocking (float rounding, ~1e-7).
        Assert.All(decoder.Take(5), d => Assert.True(d <= 1e-6f, $"a causal position changed by {d} when a later token changed"));
        Assert.True(decoder[5] > 1e-5f);
    }

    [Theory]
    [InlineData(AttentionKind.Softmax)]
    [InlineData(AttentionKind.Elliptical)]
    public void PaddedPositionsDoNotReachRealTokens(AttentionKind attention)
    {
        var stack = Stack(Options(attention), causal: false);
        using var padding = tensor(new[] { false, false, false, false, true, true }).reshape(1, 6).expand(2, 6).contiguous();
        var change = ChangePerPosition(stack, changed: 4, padding);
        Assert.All(change.Take(4), d => Assert.True(d <= 1e-6f, $"a padded-out position changed the others by {d}"));
        // Without the mask the same edit does reach them.
        Assert.All(ChangePerPosition(stack, changed: 4).Take(4), d => Assert.True(d > 1e-5f));
    }

    [Fact]
    public void IntermediatesHaveOneEntryPerLayerWithTheRightShapes()
    {
        var stack = Stack(Options(AttentionKind.Elliptical, MoeKind.AcSmoe, every: 1), causal: false);
        using var scope = torch.NewDisposeScope();
        var x = randn(2, 5, DModel);
        var output = stack.forward(x, null, true);
        var layers = output.Layers!;
        Assert.Equal(3, layers.Count);
        var headDim = DModel / Heads;
        foreach (var layer in layers)
        {
            Assert.Equal(new long[] { 2, 5, DModel }, layer.Hidden.shape);
            Assert.Equal(new long[] { 2, Heads, 5, headDim }, layer.Values.shape);
            Assert.Equal(new long[] { 10, 2 }, layer.Routing!.TopIndices.shape);
            Assert.Equal(new long[] { 10, 4 }, layer.Routing.RouterLogits.shape);
            Assert.False(layer.Hidden.requires_grad);
        }
        Assert.Null(layers[0].Metric);
        // An encoder's elliptical layers default to the whole-sequence estimator: one m per sequence and head.
        Assert.Equal(new long[] { 2, Heads, 1, headDim }, layers[1].Metric!.shape);
        Assert.True(layers[^1].Hidden.eq(output.Output).all().item<bool>());
        // The auxiliary loss is the balance weight times the sum of the layers' balance losses.
        var expected = layers.Sum(l => LoadBalanceLoss.Compute(l.Routing!.RouterLogits, l.Routing.TopIndices, 4).item<float>()) * 0.01;
        Assert.Equal(expected, output.AuxiliaryLoss!.item<float>(), 5);
        Assert.Null(stack.forward(x, null, false).Layers);
    }

    [Fact]
    public void GlamDenseBlocksHaveNoRoutingAndADenseStackNoAuxiliaryLoss()
    {
        using var scope = torch.NewDisposeScope();
        var x = randn(1, 4, DModel);
        var glam = Stack(Options(AttentionKind.Softmax, MoeKind.AcXmoe, every: 2, layers: 5), causal: true).forward(x, null, true);
        Assert.Equal(new[] { true, false, true, false, true }, glam.Layers!.Select(l => l.Routing is not null).ToArray());
        Assert.All(glam.Layers!, l => Assert.Null(l.Metric));
        Assert.Null(Stack(Options(AttentionKind.Softmax, MoeKind.None), causal: true).forward(x, null, false).AuxiliaryLoss);
    }

    [Fact]
    public void LmLogitsAreEmbeddingsThenTheStackThenTheFinalNormThenTheTiedHead()
    {
        torch.manual_seed(2);
        using var model = new TransformerLm(new LmConfig { VocabSize = 30, SeqLen = 8, Stack = Options(AttentionKind.Elliptical, MoeKind.AcSmoe, every: 1) with { Dropout = 0.1 } });
        model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var ids = torch.randint(0, 30, new long[] { 2, 8 }, generator: new Generator(5));
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var x = p["tokenEmbedding.weight"].index_select(0, ids.reshape(-1)).reshape(2, 8, DModel) + p["positionEmbedding.weight"];
        var hidden = model.Stack.forward(x, null, false).Output;
        var normed = nn.functional.layer_norm(hidden, new long[] { DModel }, p["finalNorm.weight"], p["finalNorm.bias"], 1e-5);
        var expected = normed.matmul(p["tokenEmbedding.weight"].t());
        var actual = model.forward(ids);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-6), $"max |Δ| {(actual - expected).abs().max().item<float>()}");
        Assert.True(model.Run(ids).Logits.eq(actual).all().item<bool>());
    }

    [Fact]
    public void LmParameterNamesAreThoseOfEarlierCheckpoints()
    {
        using var model = new TransformerLm(new LmConfig { VocabSize = 10, SeqLen = 4, Stack = Options(layers: 2) });
        var names = model.state_dict().Keys.ToList();
        Assert.Equal("tokenEmbedding.weight", names[0]);
        Assert.Equal("positionEmbedding.weight", names[1]);
        Assert.Contains("blocks.0.attn.qkv.weight", names);
        Assert.Contains("blocks.0.moe.w1", names);
        Assert.Contains("blocks.1.ffn.up.weight", names);
        Assert.Equal("finalNorm.bias", names[^1]);
    }

    [Fact]
    public void BadStackOptionsNameTheProperty()
    {
        var error = Assert.Throws<ArgumentException>(() => new TransformerStack(Options() with { Heads = 3 }, causal: false));
        Assert.Equal("Heads", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => new TransformerStack(Options() with { Moe = new() { Router = MoeKind.Smoe, Layer = new() { TopK = 9 } } }, causal: true));
        Assert.Equal("Moe.Layer.TopK", error.ParamName);
    }
}
