using StatFormer.Attention;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Language.Experiments;
using StatFormer.Language.Generation;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Tests.Training;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests;

/// <summary>The README's C# examples, line for line at tiny sizes, so that they compile and do what the README says.</summary>
[Collection(TrainingTestCollection.Name)]
public sealed class ReadmeExamplesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TheLayerStackAndModelExamplesRun()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var x = randn(2, 6, 16);
        var previousValues = randn(2, 4, 6, 4);
        var paddingMask = zeros(new long[] { 2, 6 }, ScalarType.Bool);
        var ids = randint(0, 50, new long[] { 2, 6 });

        var layer = new EllipticalSelfAttention(dModel: 16, heads: 4, dropout: 0.1, causal: true, estimator: EllipticalEstimator.Causal);
        var (output, values, metric) = layer.forward(x, previousValues, null);
        Assert.Equal(new long[] { 2, 6, 16 }, output.shape);
        Assert.Equal(new long[] { 2, 4, 6, 4 }, values.shape);
        Assert.NotNull(metric);

        var encoder = new TransformerStack(new TransformerStackOptions { Layers = 2, DModel = 16, Heads = 4, Attention = AttentionKind.Elliptical }, causal: false);
        var encoded = encoder.forward(x, paddingMask, true);
        Assert.Equal(2, encoded.Layers!.Count);

        var model = new TransformerLm(new LmConfig
        {
            VocabSize = 50, SeqLen = 8,
            Stack = new() { Layers = 2, DModel = 16, Heads = 4, Attention = AttentionKind.Elliptical },
        });
        Assert.Equal(new long[] { 2, 6, 50 }, model.forward(ids).shape);

        var moeModel = new TransformerLm(new LmConfig
        {
            VocabSize = 50, SeqLen = 8,
            Stack = new()
            {
                Layers = 2, DModel = 16, Heads = 4, Attention = AttentionKind.Elliptical,
                Moe = new() { Router = MoeKind.AcSmoe, Layer = new() { Experts = 4, TopK = 2 } },
            },
        });
        var run = moeModel.Run(ids, recordIntermediates: true);
        Assert.NotNull(run.AuxiliaryLoss);
        Assert.NotNull(run.Layers![1].Routing);

        moeModel.eval();
        using var cache = moeModel.NewCache(batch: 2);
        var promptLogits = moeModel.Step(cache, ids);
        var nextLogits = moeModel.Step(cache, promptLogits[.., -1].argmax(-1));
        Assert.True((promptLogits - moeModel.forward(ids)).abs().max().item<float>() < 1e-5f);
        Assert.Equal(new long[] { 2, 50 }, nextLogits.shape);
        Assert.Equal(7, cache.Length);

        var first = new MoeFeedForward(16, MoeKind.Smoe, new MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 8 }, causal: false);
        var second = new MoeFeedForward(16, MoeKind.AcSmoe, new MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 8 }, causal: false);
        var h = first.forward(x, null);
        var y = second.forward(h.Output, h.Routing);
        Assert.Equal(x.shape, y.Output.shape);
    }

    [Fact]
    public void TheRunExamplesTrainAndReport()
    {
        var (summary, _) = LmExperiment.Run(new LmRunOptions
        {
            Data = new() { Source = "synthetic", Tokenizer = "word", BatchSize = 2 },
            Model = new() { SeqLen = 8, Stack = new() { Layers = 2, DModel = 16, Heads = 2, Attention = AttentionKind.Elliptical } },
            Train = new() { Steps = 2, WarmupSteps = 1, EvalEvery = 2, LearningRate = 1e-3, MinLearningRate = null },
            Eval = new() { ValidTokens = 64, EvalTokens = 64 },
            Output = new() { OutDir = _dir.File("lm") },
        });
        Assert.True(double.IsFinite(summary.TestPpl));
        Assert.NotEmpty(summary.AttackedTestPpl);

        // Generation from the trained run, streamed through the callback.
        using (var trained = TrainedLmRun.Load(_dir.File("lm")))
        {
            var streamed = new System.Text.StringBuilder();
            var samples = trained.Model.Generate(trained.Tokenizer, "the", new GenerationOptions
            {
                MaxTokens = 12, Seed = 1, Stop = ["\n"],
                Sampling = new() { Temperature = 0.8, TopK = 40, TopP = 0.95 },
            }, onToken: (sample, token) => streamed.Append(token.Text));
            Assert.Equal(samples[0].Text, streamed.ToString());
            Assert.DoesNotContain('\n', samples[0].Text);
            Assert.Equal("kv-cache", samples[0].Decoder);
        }

        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var (u1, u2, z) = (randn(8, 4), randn(8, 4), randn(8, 3));
        var groups = zeros(8, ScalarType.Int64);
        var fare = new SparseFareLoss(sensitiveDim: 3, new ContrastiveLossOptions { Buckets = 4, ChunkSize = 4 });
        var loss = fare.forward(u1, u2, new SensitiveBatch(z, groups));
        loss.backward();
        Assert.NotNull(fare.Diagnose(new SensitiveBatch(z, groups)));

        var fairRun = FairExperiment.Run(new FairRunOptions
        {
            Data = new() { Dataset = "synthetic", TrainLimit = 128, TestLimit = 64 },
            Model = new() { Method = ContrastiveMethod.SparseFare, MlpHidden = 8, MlpOutput = 4, ProjectionDim = 4 },
            Train = new() { Epochs = 1, BatchSize = 32 },
            Eval = new() { ProbeMaxIterations = 50 },
            Output = new() { OutDir = _dir.File("fair") },
        });
        Assert.InRange(fairRun.TargetAccuracy, 0, 100);
    }
}
