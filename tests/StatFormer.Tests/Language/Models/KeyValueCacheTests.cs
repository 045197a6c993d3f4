using StatFormer.Attention;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using StatFormer.Moe;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Models;

/// <summary>
/// Cached decoding (<see cref="TransformerLm.Step"/>) gives the logits of a full forward over the same prefix, position
/// by position, for every variant `compare --variants` accepts, both layouts, with and without capacity, after a few
/// training steps (so the AC running statistics are non-trivial): token by token, and a prompt prefilled in one call
/// followed by blocks of two and single tokens. The non-causal estimators are refused.
/// </summary>
public class KeyValueCacheTests(ITestOutputHelper output)
{
    private const int Vocab = 20, SeqLen = 12, Batch = 3;
    private const float Tolerance = 1e-5f;

    public static TheoryData<string, int, double> Variants()
    {
        var data = new TheoryData<string, int, double>();
        foreach (var variant in new[] { "softmax", "elliptical", "smoe", "xmoe", "ac-smoe", "ac-xmoe", "elliptical+ac-smoe", "elliptical+ac-xmoe" })
            foreach (var capacity in new[] { 0.0, 0.75 })
                data.Add(variant, 1, capacity);
        foreach (var variant in new[] { "smoe", "ac-smoe", "elliptical+ac-xmoe" })
            foreach (var capacity in new[] { 0.0, 0.75 })
                data.Add(variant, 2, capacity);                                  // GLaM layout
        return data;
    }

    private static TransformerLm Model(string variant, int moeEvery, double capacity, EllipticalEstimator? estimator = null, AcEstimator acEstimator = AcEstimator.Running,
        Func<LmConfig, LmConfig>? adjust = null)
    {
        var v = ModelVariant.Parse(variant);
        torch.manual_seed(11);
        var config = new LmConfig
        {
            VocabSize = Vocab, SeqLen = SeqLen,
            Stack = new()
            {
                Layers = moeEvery == 1 ? 3 : 5, DModel = 16, Heads = 2, Dropout = 0.1, Attention = v.Attention, Estimator = estimator,
                Moe = new() { Router = v.Moe, Every = moeEvery, Layer = new() { Experts = 4, TopK = 2, CapacityFactor = capacity, AcEstimator = acEstimator } },
            },
        };
        var model = new TransformerLm(adjust is null ? config : adjust(config));
        // A few real training steps (AdamW, dropout on): weights move and the AC running statistics are non-trivial.
        model.train();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: 3e-3);
        var generator = new Generator(12);
        for (var step = 0; step < 4; step++)
        {
            using var scope = torch.NewDisposeScope();
            var ids = torch.randint(0, Vocab, new long[] { 4, SeqLen + 1 }, generator: generator);
            var output = model.Run(ids[.., ..SeqLen]);
            var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, Vocab), ids[.., 1..].reshape(-1));
            if (output.AuxiliaryLoss is { } aux) loss = loss + aux;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        model.eval();
        return model;
    }

    private static Tensor Prompts(int length) =>
        torch.randint(0, Vocab, new long[] { Batch, length }, generator: new Generator(13));

    private void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        output.WriteLine($"{what}: max |Δlogit| {diff:E2}");
        Assert.True(diff <= Tolerance, $"{what}: cached logits differ from the full forward by {diff}");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void TokenByTokenDecodingMatchesTheFullForwardAtEveryPosition(string variant, int moeEvery, double capacity)
    {
        using var model = Model(variant, moeEvery, capacity);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = Prompts(SeqLen);
        var full = model.forward(ids);                                           // [B,T,V]
        var buffers = model.named_buffers().Select(b => b.buffer.clone()).ToArray();
        using var cache = model.NewCache(Batch);
        for (var t = 0; t < SeqLen; t++)
        {
            var logits = model.Step(cache, ids[.., t]);                          // [B,V]
            AssertClose(full[.., t], logits, $"{variant} (moe every {moeEvery}, capacity {capacity}), position {t}");
        }
        // The AC routers decode with their frozen running statistics: decoding changes none of them.
        Assert.All(model.named_buffers().Zip(buffers), p => Assert.True(StatFormer.Tests.Training.TensorAssert.SameTensor(p.First.buffer, p.Second)));
        if (ModelVariant.Parse(variant).Moe is MoeKind.AcSmoe or MoeKind.AcXmoe)
            Assert.True(buffers.Any(b => b.abs().sum().item<float>() > 0), "the AC running statistics should be non-trivial after training");
        Assert.Equal(SeqLen, cache.Length);
        if (capacity > 0 && ModelVariant.Parse(variant).Moe != MoeKind.None)
        {
            // Sanity: the limit binds, so the test covers dropping (some sequence sent an expert more than it takes).
            var most = cache.Layers.Where(l => l.ExpertCounts is not null).Max(l => l.ExpertCounts!.max().item<long>());
            Assert.True(most > cache.ExpertCapacity, $"{variant}: no expert exceeded its capacity {cache.ExpertCapacity} (most {most})");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void APrefilledPromptThenStepsMatchTheFullForward(string variant, int moeEvery, double capacity)
    {
        using var model = Model(variant, moeEvery, capacity);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = Prompts(SeqLen);
        var full = model.forward(ids);
        using var cache = model.NewCache(Batch);
        AssertClose(full[.., ..5], model.Step(cache, ids[.., ..5]), $"{variant}: prompt of 5");
        // A block of new positions after cached ones (the shifted causal mask), then single tokens.
        AssertClose(full[.., 5..8], model.Step(cache, ids[.., 5..8]), $"{variant}: positions 5..7 in one call");
        for (var t = 8; t < SeqLen; t++)
            AssertClose(full[.., t], model.Step(cache, ids[.., t]), $"{variant}: position {t}");
    }

    [Theory]
    [InlineData("ac-smoe", 1)]
    [InlineData("elliptical+ac-xmoe", 2)]
    public void CapacityFollowsTheWindowLengthTheCacheWasMadeFor(string variant, int moeEvery)
    {
        // A full forward decides capacity from its window length T; a cache for a window of 7 reproduces a 7-token forward.
        using var model = Model(variant, moeEvery, capacity: 0.75);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = Prompts(7);
        var full = model.forward(ids);
        using var cache = model.NewCache(Batch, capacityLength: 7);
        Assert.Equal(model.Stack.Blocks[0].MixtureOfExperts!.CapacityFor(7), cache.ExpertCapacity);
        AssertClose(full[.., ..3], model.Step(cache, ids[.., ..3]), $"{variant}: prompt of 3");
        for (var t = 3; t < 7; t++)
            AssertClose(full[.., t], model.Step(cache, ids[.., t]), $"{variant}: position {t}");
    }

    [Fact]
    public void UnscaledEllipticalTopOneAndMixedAcWeightsDecodeTheSame()
    {
        // The other options of the mechanisms: no 1/√D (--unscaled), the Switch top-1 gate, AC weights mixed over the previous top-k.
        using var model = Model("elliptical+ac-xmoe", 1, 0.75, adjust: c => c with
        {
            Stack = c.Stack with { EllipticalUnscaled = true, Moe = c.Stack.Moe with { Layer = c.Stack.Moe.Layer with { TopK = 1, AcMixTopK = true } } },
        });
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = Prompts(SeqLen);
        var full = model.forward(ids);
        using var cache = model.NewCache(Batch);
        AssertClose(full[.., ..2], model.Step(cache, ids[.., ..2]), "options: prompt");
        for (var t = 2; t < SeqLen; t++)
            AssertClose(full[.., t], model.Step(cache, ids[.., t]), $"options: position {t}");
    }

    [Fact]
    public void TheExplicitKernelDecodesTheSame()
    {
        using var model = Model("elliptical+ac-smoe", 1, 0.75);
        foreach (var block in model.Stack.Blocks) block.Attention.Kernel = AttentionKernel.Explicit;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = Prompts(SeqLen);
        var full = model.forward(ids);
        using var cache = model.NewCache(Batch);
        AssertClose(full[.., ..4], model.Step(cache, ids[.., ..4]), "explicit kernel: prompt");
        AssertClose(full[.., 4..6], model.Step(cache, ids[.., 4..6]), "explicit kernel: block");
        for (var t = 6; t < SeqLen; t++)
            AssertClose(full[.., t], model.Step(cache, ids[.., t]), $"explicit kernel: position {t}");
    }

    [Fact]
    public void TheNonCausalEstimatorsAreRefused()
    {
        // The sequence estimator's m at position t averages over every position of the window, and the AC batch
        // estimator's weights over every token of the batch: no cache of the past can reproduce either.
        using var sequence = Model("elliptical", 1, 0.0, EllipticalEstimator.Sequence);
        Assert.Contains("sequence estimator", Assert.Throws<NotSupportedException>(() => sequence.NewCache(Batch)).Message);
        using var batch = Model("ac-smoe", 1, 0.0, acEstimator: AcEstimator.Batch);
        Assert.Contains("batch estimator", Assert.Throws<NotSupportedException>(() => batch.NewCache(Batch)).Message);
    }

    [Fact]
    public void PositionsBeyondTheContextTrainingModeAndAWrongBatchAreRefused()
    {
        using var model = Model("elliptical+ac-xmoe", 1, 0.75);
        using var scope = torch.NewDisposeScope();
        var ids = Prompts(SeqLen);
        using var cache = model.NewCache(Batch);
        var tooLong = Assert.Throws<ArgumentException>(() => model.Step(cache, torch.zeros(Batch, SeqLen + 1, dtype: ScalarType.Int64)));
        Assert.Contains("context (SeqLen 12)", tooLong.Message);
        Assert.Equal(0, cache.Length);
        model.Step(cache, ids);
        Assert.Throws<ArgumentException>(() => model.Step(cache, ids[.., 0]));
        using var other = model.NewCache(Batch);
        Assert.Throws<ArgumentException>(() => model.Step(other, ids[..2, 0]));
        model.train();
        Assert.Contains("evaluation mode", Assert.Throws<InvalidOperationException>(() => model.Step(other, ids[.., 0])).Message);
        Assert.Equal(0, other.Length);
    }
}
