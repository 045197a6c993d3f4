using StatFormer.Attention;
using StatFormer.Language.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Models;

public class TransformerLmTests
{
    private static TransformerLm Model(EllipticalEstimator estimator, AttentionKind attention = AttentionKind.Elliptical)
    {
        torch.manual_seed(5);
        var model = new TransformerLm(new LmConfig
        {
            VocabSize = 20, SeqLen = 12,
            Stack = new()
            {
                Layers = 3, DModel = 16, Heads = 2, Dropout = 0.0, Attention = attention, Estimator = estimator,
            },
        });
        model.eval();
        return model;
    }

    /// <summary>Max |Δlogits| at each position when the token at <paramref name="changed"/> is replaced.</summary>
    private static float[] ChangePerPosition(TransformerLm model, int changed)
    {
        using var noGrad = torch.no_grad();
        var ids = new long[] { 1, 5, 3, 7, 2, 9, 4, 6, 8, 10 };
        using var clean = model.forward(tensor(ids).reshape(1, -1));
        ids[changed] = 15;
        using var edited = model.forward(tensor(ids).reshape(1, -1));
        using var diff = (clean - edited).abs().amax(new long[] { 0, 2 });
        return diff.data<float>().ToArray();
    }

    [Theory]
    [InlineData(AttentionKind.Softmax)]
    [InlineData(AttentionKind.Elliptical)]
    public void CausalModelsNeverLookAhead(AttentionKind attention)
    {
        var diff = ChangePerPosition(Model(EllipticalEstimator.Causal, attention), changed: 6);
        for (var t = 0; t < 6; t++) Assert.Equal(0f, diff[t]);
        Assert.True(diff[6] > 0 && diff[9] > 0);
    }

    [Fact]
    public void SequenceEstimatorLeaksFutureTokensIntoEarlierPositions()
    {
        // Documents the authors' whole-sequence estimator: m averages over every position, so a later
        // token changes the metric, and through it the predictions, at earlier positions.
        var diff = ChangePerPosition(Model(EllipticalEstimator.Sequence), changed: 6);
        Assert.True(diff.Take(6).Max() > 1e-6f, "expected the sequence estimator to leak");
    }

    [Fact]
    public void DefaultEllipticalLayersAreAllButTheFirst()
    {
        var model = Model(EllipticalEstimator.Causal);
        Assert.IsType<SoftmaxSelfAttention>(model.Stack.Blocks[0].Attention);
        Assert.IsType<EllipticalSelfAttention>(model.Stack.Blocks[1].Attention);
        Assert.IsType<EllipticalSelfAttention>(model.Stack.Blocks[2].Attention);
        Assert.Equal(new[] { 1, 2 }, model.Config.Stack.EffectiveEllipticalLayers);
    }

    [Fact]
    public void OutputLayerIsTiedToTheTokenEmbedding()
    {
        var model = Model(EllipticalEstimator.Causal);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.DoesNotContain(names, n => n.Contains("lm_head") || n.Contains("output"));
        // tokens + positions + per block (2 LN × 2 + qkv 2 + proj 2 + ffn 4) + final LN 2
        Assert.Equal(2 + 3 * 12 + 2, names.Count);
    }

    [Fact]
    public void ConfigRoundTripsThroughJson()
    {
        var config = new LmConfig { VocabSize = 50, Stack = new() { Layers = 2, Attention = AttentionKind.Elliptical, Estimator = EllipticalEstimator.Sequence, EllipticalUnscaled = true } };
        var json = config.ToJson();
        Assert.Contains("\"attention\":\"elliptical\"", json);
        var back = LmConfig.FromJson(json);
        Assert.Equal(config.ToJson(), back.ToJson());
    }

    [Fact]
    public void RejectsAnEllipticalFirstLayer()
    {
        var config = new LmConfig { VocabSize = 10, Stack = new() { Layers = 2, Attention = AttentionKind.Elliptical, EllipticalLayers = new[] { 0, 1 } } };
        var error = Assert.Throws<ArgumentException>(() => config.Validate());
        Assert.Contains("layer 0", error.Message);
    }

    [Fact]
    public void RejectsInputsLongerThanTheContext()
    {
        var model = Model(EllipticalEstimator.Causal);
        var error = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 13, dtype: ScalarType.Int64)));
        Assert.Contains("SeqLen", error.Message);
    }
}
