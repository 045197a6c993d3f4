using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Models;

/// <summary>
/// No language model may look ahead: the logits at position t must not change when any later token changes,
/// in the same sequence or anywhere else in the batch (in evaluation the next window of the batch is the
/// continuation of this one). Checked for every variant `compare --variants` accepts, both layouts, with and
/// without capacity, in training and in evaluation mode.
/// </summary>
public class LmCausalityTests
{
    private const int Vocab = 20, SeqLen = 10, Batch = 3, Edited = 6;

    public static TheoryData<string, int, double> Variants()
    {
        var data = new TheoryData<string, int, double>();
        foreach (var variant in new[] { "softmax", "elliptical", "smoe", "xmoe", "ac-smoe", "ac-xmoe", "elliptical+ac-smoe", "elliptical+ac-xmoe" })
            foreach (var capacity in new[] { 0.0, 0.75 })
                data.Add(variant, 1, capacity);
        foreach (var variant in new[] { "smoe", "ac-smoe", "ac-xmoe" })
            foreach (var capacity in new[] { 0.0, 0.75 })
                data.Add(variant, 2, capacity);                                  // GLaM layout
        return data;
    }

    private static TransformerLm Model(string variant, int moeEvery, double capacity, AcEstimator estimator = AcEstimator.Running)
    {
        var v = ModelVariant.Parse(variant);
        torch.manual_seed(7);
        var model = new TransformerLm(new LmConfig
        {
            VocabSize = Vocab, SeqLen = SeqLen,
            Stack = new()
            {
                Layers = moeEvery == 1 ? 3 : 5, DModel = 16, Heads = 2, Dropout = 0.0, Attention = v.Attention,
                Moe = new() { Router = v.Moe, Every = moeEvery, Layer = new() { Experts = 4, TopK = 2, CapacityFactor = capacity, AcEstimator = estimator } },
            },
        });
        // A few training batches, so the AC layers route with non-trivial running statistics.
        model.train();
        using var noGrad = torch.no_grad();
        var generator = new Generator(8);
        for (var i = 0; i < 3; i++)
        {
            using var scope = torch.NewDisposeScope();
            model.forward(torch.randint(0, Vocab, new long[] { 4, SeqLen }, generator: generator));
        }
        return model;
    }

    private static Dictionary<string, Tensor> Buffers(TransformerLm model) =>
        model.named_buffers().ToDictionary(b => b.name, b => b.buffer.clone());

    private static void Restore(TransformerLm model, Dictionary<string, Tensor> saved)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, buffer) in model.named_buffers()) buffer.copy_(saved[name]);
    }

    /// <summary>|Δlogits| per (sequence, position), max over the vocabulary, when token (1, Edited) changes.</summary>
    private static float[,] Change(TransformerLm model, bool training)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.randint(0, Vocab, new long[] { Batch, SeqLen }, generator: new Generator(9));
        var edited = ids.clone();
        edited[1, Edited] = (ids[1, Edited] + 7) % Vocab;
        if (training) model.train(); else model.eval();
        // A training forward updates the running AC statistics; both forwards must start from the same ones.
        var saved = Buffers(model);
        var clean = model.forward(ids);
        Restore(model, saved);
        var changed = model.forward(edited);
        Restore(model, saved);
        var diff = (clean - changed).abs().amax(new long[] { 2 });
        var result = new float[Batch, SeqLen];
        for (var b = 0; b < Batch; b++)
            for (var t = 0; t < SeqLen; t++)
                result[b, t] = diff[b, t].item<float>();
        return result;
    }

    private static void AssertCausal(float[,] diff, string what)
    {
        for (var b = 0; b < Batch; b++)
            for (var t = 0; t < SeqLen; t++)
            {
                var mayChange = b == 1 && t >= Edited;
                if (!mayChange) Assert.True(diff[b, t] <= 1e-6f, $"{what}: logits at sequence {b}, position {t} changed by {diff[b, t]} when token (1, {Edited}) changed");
            }
        Assert.True(diff[1, Edited] > 1e-4f, $"{what}: the edited position itself must change (sanity)");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void NoVariantLooksAheadInTrainingOrEvaluation(string variant, int moeEvery, double capacity)
    {
        using var model = Model(variant, moeEvery, capacity);
        AssertCausal(Change(model, training: true), $"{variant} (moe every {moeEvery}, capacity {capacity}), training");
        AssertCausal(Change(model, training: false), $"{variant} (moe every {moeEvery}, capacity {capacity}), evaluation");
    }

    [Theory]
    [InlineData("ac-smoe", 1)]
    [InlineData("ac-xmoe", 2)]
    public void TheAuthorsBatchEstimatorLeaksAcrossTheBatch(string variant, int moeEvery)
    {
        // Documents why --ac-estimator batch is named as leaking: every token's routing depends on the whole batch.
        using var model = Model(variant, moeEvery, capacity: 0, AcEstimator.Batch);
        var diff = Change(model, training: false);
        Assert.True(Math.Max(diff[0, 0], diff[1, 0]) > 1e-6f, "expected the batch statistics to carry the later token to earlier positions");
    }

    [Theory]
    [InlineData("ac-smoe", 1, 0.75)]
    [InlineData("elliptical+ac-xmoe", 2, 0.75)]
    [InlineData("xmoe", 1, 0.0)]
    public void EvaluationDoesNotDependOnWhichWindowsShareABatch(string variant, int moeEvery, double capacity)
    {
        // Consecutive windows batched together: window i+1 is the continuation of window i. A causal model
        // scores the stream the same whether the windows are batched by 1, 3 or 8.
        using var model = Model(variant, moeEvery, capacity);
        var stream = Enumerable.Range(0, 8 * SeqLen + 1).Select(i => (long)((i * 7 + i / 3) % Vocab)).ToArray();
        var one = PerplexityEvaluator.Evaluate(model, stream, SeqLen, batchSize: 1);
        foreach (var batchSize in new[] { 3, 8 })
        {
            var batched = PerplexityEvaluator.Evaluate(model, stream, SeqLen, batchSize);
            Assert.Equal(one.TokensScored, batched.TokensScored);
            Assert.True(Math.Abs(one.MeanNll - batched.MeanNll) <= 1e-6 * Math.Max(1, one.MeanNll),
                $"{variant}: mean NLL {one.MeanNll} with batches of 1, {batched.MeanNll} with batches of {batchSize}");
        }
    }
}
