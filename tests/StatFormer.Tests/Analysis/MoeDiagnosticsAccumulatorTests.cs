using System.Text.Json;
using StatFormer.Analysis;
using StatFormer.Reporting;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Analysis;

public class MoeDiagnosticsAccumulatorTests
{
    private static MoeLayerRouting Layer(long[] topIndices, int k, Tensor logits, Tensor? features = null)
    {
        long n = topIndices.Length / k;
        return new MoeLayerRouting(tensor(topIndices).reshape(n, k), logits, features ?? randn(n, 2));
    }

    private static void AssertClose(double[] expected, IReadOnlyList<double> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    // A layer whose top-1 experts are given, with top-2 = (top1 + 1) mod E and uniform logits.
    private static MoeLayerRouting Top1Layer(int experts, params long[] top1) =>
        Layer(top1.SelectMany(e => new[] { e, (e + 1) % experts }).ToArray(), 2, zeros(top1.Length, experts));

    [Fact]
    public void LoadFractionsCvAndUniformEntropy()
    {
        torch.manual_seed(0);
        var accumulator = new MoeDiagnosticsAccumulator(layers: 1, experts: 4, topics: 0);
        // Slots: expert 0 ×3, experts 1, 2, 3 ×1 each (6 assignments); top-1: 0, 0, 3.
        accumulator.AddBatch(new[] { Layer(new long[] { 0, 1, 0, 2, 3, 0 }, 2, zeros(3, 4)) }, null);
        var layer = accumulator.Result().Layers.Single();

        AssertClose(new[] { 3 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0 }, layer.Load, 1e-12);
        AssertClose(new[] { 2 / 3.0, 0, 0, 1 / 3.0 }, layer.Top1Load, 1e-12);
        // mean 1/4; deviations 1/4, −1/12 ×3 → variance (1/16 + 3/144)/4 = 1/48, std = 1/(4√3), CV = 1/√3.
        Assert.Equal(1 / Math.Sqrt(3), layer.LoadCv, 10);
        Assert.Equal(Math.Log(4), layer.RouterEntropy, 6);
        Assert.Equal(1.0, layer.RouterEntropyNormalized, 6);
        Assert.Null(layer.TopicPurity);
        Assert.Null(layer.TopicNmi);
        Assert.Null(layer.TopicConfusion);
    }

    [Fact]
    public void EntropyOfHandComputedLogitsAndMinusInfinity()
    {
        var accumulator = new MoeDiagnosticsAccumulator(1, 2, 0);
        // Token 0: p = (1/4, 3/4) → H = ln 4 − (3/4) ln 3. Token 1: p = (1, 0) → H = 0 (0·log 0 counts as 0).
        var logits = tensor(new float[] { 0, MathF.Log(3), 0, float.NegativeInfinity }).reshape(2, 2);
        accumulator.AddBatch(new[] { Layer(new long[] { 1, 0 }, 1, logits) }, null);
        var layer = accumulator.Result().Layers.Single();
        double expected = (Math.Log(4) - 0.75 * Math.Log(3)) / 2;
        Assert.Equal(expected, layer.RouterEntropy, 6);
        Assert.Equal(expected / Math.Log(2), layer.RouterEntropyNormalized, 6);
    }

    [Fact]
    public void StabilityBetweenConsecutiveLayers()
    {
        var accumulator = new MoeDiagnosticsAccumulator(3, 4, 0);
        accumulator.AddBatch(new[]
        {
            Top1Layer(4, 0, 0, 1, 1, 2, 2),
            Top1Layer(4, 3, 3, 0, 0, 1, 1),   // the same partition, relabelled
            Top1Layer(4, 0, 1, 0, 1, 0, 1),   // independent of the previous one
        }, null);
        var result = accumulator.Result();

        Assert.Equal(2, result.StabilityRandIndex.Count);
        Assert.Equal(1.0, result.StabilityRandIndex[0], 12);
        Assert.Equal(1.0, result.StabilityNmi[0], 12);
        // Layer 1 → 2: table rows {0,1},{0,1},{0,1}: C(6,2) = 15, together in both 0, rows 3, columns 2·C(3,2) = 6 → 6/15.
        Assert.Equal(6.0 / 15, result.StabilityRandIndex[1], 12);
        Assert.Equal(0.0, result.StabilityNmi[1], 12);
        Assert.Equal((1 + 6.0 / 15) / 2, result.MeanStability!.Value, 12);
        Assert.Equal(0.5, result.MeanStabilityNmi!.Value, 12);
    }

    [Fact]
    public void SingleLayerHasNoStability()
    {
        var accumulator = new MoeDiagnosticsAccumulator(1, 3, 0);
        accumulator.AddBatch(new[] { Top1Layer(3, 0, 1, 2) }, null);
        var result = accumulator.Result();
        Assert.Empty(result.StabilityRandIndex);
        Assert.Null(result.MeanStability);
    }

    [Fact]
    public void TopicAgreementFromTop1Experts()
    {
        var accumulator = new MoeDiagnosticsAccumulator(1, 3, 2);
        // Top-1 (0, 0, 1, 2, 2) vs topics (0, 0, 1, −1, 1): table [[2,0],[0,1],[0,1]] over 4 labelled tokens.
        accumulator.AddBatch(new[] { Top1Layer(3, 0, 0, 1, 2, 2) }, new[] { 0, 0, 1, -1, 1 });
        var result = accumulator.Result();
        var layer = result.Layers.Single();

        Assert.Equal(new[] { new double[] { 2, 0 }, new double[] { 0, 1 }, new double[] { 0, 1 } }, layer.TopicConfusion);
        Assert.Equal(1.0, layer.TopicPurity!.Value, 12);
        // Topic is a function of the expert: I = H(topic) = ln 2; H(expert) = 1.5 ln 2 → NMI = 2 ln 2 / 2.5 ln 2 = 0.8.
        Assert.Equal(0.8, layer.TopicNmi!.Value, 12);
        Assert.Equal(0.8, result.MeanTopicNmi!.Value, 12);
        Assert.Equal(5, result.Tokens);
    }

    [Fact]
    public void DispersionUsesTop1ExpertAsCluster()
    {
        var accumulator = new MoeDiagnosticsAccumulator(1, 2, 0);
        // Same numbers as the 1-D dispersion example: {0, 2} → expert 0, {10, 14} → expert 1.
        var features = tensor(new float[] { 0, 2, 10, 14 }).reshape(4, 1);
        accumulator.AddBatch(new[] { Layer(new long[] { 0, 1, 0, 1, 1, 0, 1, 0 }, 2, zeros(4, 2), features) }, null);
        var layer = accumulator.Result().Layers.Single();
        Assert.Equal(10.0 / 131, layer.DispersionRatio, 10);
        AssertClose(new[] { 1.0, 4.0 }, layer.ExpertMeanSquaredDistance, 1e-10);
    }

    [Fact]
    public void TwoBatchesEqualOneBatch()
    {
        torch.manual_seed(3);
        const int n = 12, experts = 4, layers = 2;
        var logits = Enumerable.Range(0, layers).Select(_ => randn(n, experts)).ToArray();
        var top = logits.Select(l => l.topk(2, dim: 1).indexes).ToArray();
        var features = Enumerable.Range(0, layers).Select(_ => randn(n, 3)).ToArray();
        var topics = Enumerable.Range(0, n).Select(i => i % 4 == 3 ? -1 : i % 3).ToArray();

        MoeLayerRouting[] Slice(Range r) =>
            Enumerable.Range(0, layers).Select(l => new MoeLayerRouting(top[l][r], logits[l][r], features[l][r])).ToArray();

        var whole = new MoeDiagnosticsAccumulator(layers, experts, 3);
        whole.AddBatch(Slice(..), topics);
        var split = new MoeDiagnosticsAccumulator(layers, experts, 3);
        split.AddBatch(Slice(..5), topics[..5]);
        split.AddBatch(Slice(5..), topics[5..]);

        var a = whole.Result();
        var b = split.Result();
        Assert.Equal(a.Tokens, b.Tokens);
        for (int l = 0; l < layers; l++)
        {
            Assert.Equal(a.Layers[l].Load, b.Layers[l].Load);
            Assert.Equal(a.Layers[l].Top1Load, b.Layers[l].Top1Load);
            Assert.Equal(a.Layers[l].TopicConfusion, b.Layers[l].TopicConfusion);
            Assert.Equal(a.Layers[l].RouterEntropy, b.Layers[l].RouterEntropy, 10);
            Assert.Equal(a.Layers[l].DispersionRatio, b.Layers[l].DispersionRatio, 10);
        }
        Assert.Equal(a.StabilityRandIndex, b.StabilityRandIndex);
        Assert.Equal(a.StabilityNmi, b.StabilityNmi);
    }

    [Fact]
    public void RejectsInvalidBatchesNamingTheArgument()
    {
        var accumulator = new MoeDiagnosticsAccumulator(2, 4, 2);
        var good = Top1Layer(4, 0, 1, 2);
        string ParamOf(Action act) => Assert.Throws<ArgumentException>(act).ParamName!;

        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good }, null)));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, new MoeLayerRouting(tensor(new long[] { 0, 1, 2 }), zeros(3, 4), randn(3, 2)) }, null)));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, Layer(new long[] { 0, 1, 2 }, 1, zeros(3, 5)) }, null)));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, Layer(new long[] { 0, 1, 4 }, 1, zeros(3, 4)) }, null)));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, Layer(new long[] { 0, 1 }, 1, zeros(2, 4)) }, null)));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, Layer(new long[] { 0, 1, 2 }, 1, zeros(3, 4), randn(2, 2)) }, null)));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, new MoeLayerRouting(tensor(new[] { 0, 1, 2 }).reshape(3, 1), zeros(3, 4), randn(3, 2)) }, null)));
        Assert.Equal("topics", ParamOf(() => accumulator.AddBatch(new[] { good, good }, new[] { 0, 1 })));
        Assert.Equal("topics", ParamOf(() => accumulator.AddBatch(new[] { good, good }, new[] { 0, 1, 2 })));
        Assert.Equal("topics", ParamOf(() => new MoeDiagnosticsAccumulator(1, 4, 0).AddBatch(new[] { good }, new[] { 0, 0, 0 })));
        Assert.Equal("experts", ParamOf(() => new MoeDiagnosticsAccumulator(1, 1, 0)));
        Assert.Equal("layers", ParamOf(() => new MoeDiagnosticsAccumulator(0, 4, 0)));

        // Routing features must keep their dimension from batch to batch.
        accumulator.AddBatch(new[] { good, good }, null);
        var wider = Layer(new long[] { 0, 1, 2 }, 1, zeros(3, 4), randn(3, 5));
        Assert.Equal("perLayer", ParamOf(() => accumulator.AddBatch(new[] { good, wider }, null)));
        // Rejected batches left nothing behind.
        Assert.Equal(3, accumulator.Tokens);
        Assert.Equal(3, accumulator.Result().Layers[0].Top1Load.Count(x => x > 0));
    }

    [Fact]
    public void ResultNeedsTokens() =>
        Assert.Throws<InvalidOperationException>(() => new MoeDiagnosticsAccumulator(1, 2, 0).Result());

    [Fact]
    public void SerialisesToSnakeCaseJsonAndBack()
    {
        var accumulator = new MoeDiagnosticsAccumulator(2, 3, 2);
        accumulator.AddBatch(new[] { Top1Layer(3, 0, 1, 2, 2), Top1Layer(3, 1, 1, 0, 2) }, new[] { 0, 1, 1, -1 });
        var result = accumulator.Result();

        var json = JsonOutput.Serialize(result);
        Assert.Contains("\"top1_load\"", json);
        Assert.Contains("\"stability_rand_index\"", json);
        Assert.Contains("\"topic_confusion\"", json);
        Assert.Contains("\"mean_topic_nmi\"", json);

        var back = JsonSerializer.Deserialize<MoeDiagnostics>(json, JsonOutput.Options)!;
        Assert.Equal(result.Tokens, back.Tokens);
        Assert.Equal(result.Layers[1].Load, back.Layers[1].Load);
        Assert.Equal(result.Layers[0].TopicConfusion, back.Layers[0].TopicConfusion);
        Assert.Equal(result.StabilityNmi, back.StabilityNmi);
        Assert.Equal(result.MeanTopicPurity, back.MeanTopicPurity);
    }
}
