using StatFormer.Contrastive;
using StatFormer.Fairness.Data;
using StatFormer.Fairness.Models;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace StatFormer.Tests.Training;

/// <summary>Long training loops of the MoE language model and of FARE contrastive learning keep native memory and live tensors flat.</summary>
[Collection(TrainingTestCollection.Name)]
public sealed class LongLoopMemoryTests(ITestOutputHelper output)
{
    private static long SettledRss()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;
    }

    private void AssertFlat(Func<TrainOptions, string, Trainer> trainer)
    {
        using var dir = new TempDir();
        var samples = new Dictionary<long, (long Rss, long LiveTensors)>();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step is 60 or 160) samples[p.Step] = (SettledRss(), DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        });
        var options = new TrainOptions { Steps = 160, WarmupSteps = 5, EvalEvery = 1000, LogEvery = 20, LearningRate = 1e-3 };
        trainer(options, dir.Path).Run(progress);
        var growth = samples[160].Rss - samples[60].Rss;
        output.WriteLine($"RSS {samples[60].Rss / 1e6:F1} → {samples[160].Rss / 1e6:F1} MB, live tensors {samples[60].LiveTensors} → {samples[160].LiveTensors}");
        Assert.True(growth < 20L << 20, $"RSS grew by {growth / 1e6:F1} MB over 100 steps");
        Assert.Equal(samples[60].LiveTensors, samples[160].LiveTensors);
    }

    [Fact]
    public void AcMoeLanguageModelLoopStaysFlat()
    {
        torch.manual_seed(0);
        using var model = new TransformerLm(new LmConfig { VocabSize = 40, SeqLen = 16, Stack = new() { Layers = 3, DModel = 16, Heads = 2, Moe = new() { Router = MoeKind.AcXmoe, Layer = new() { Experts = 4 } } } });
        // Fresh batch tensors every step (the trainer disposes them), as LmBatchSampler makes them.
        var tokens = Enumerable.Range(0, 400).Select(i => (long)(i * 7 % 40)).ToArray();
        AssertFlat((options, dir) => new Trainer(model, options, step => StatFormer.Language.Data.LmBatchSampler.Sample(tokens, 4, 16, 0, step), null, dir, "{}"));
    }

    [Fact]
    public void CachedDecodingLoopStaysFlat()
    {
        // 200 greedy decoding steps of an elliptical AC-XMoE model with capacity, a new cache whenever the context is full.
        torch.manual_seed(0);
        const int seqLen = 50;
        using var model = new TransformerLm(new LmConfig
        {
            VocabSize = 40, SeqLen = seqLen,
            Stack = new() { Layers = 3, DModel = 16, Heads = 2, Attention = StatFormer.Attention.AttentionKind.Elliptical, Moe = new() { Router = MoeKind.AcXmoe, Layer = new() { Experts = 4, CapacityFactor = 0.75 } } },
        });
        model.eval();
        var samples = new Dictionary<int, (long Rss, long LiveTensors)>();
        StatFormer.Transformer.KeyValueCache? cache = null;
        var next = torch.tensor(new long[] { 1, 2 });
        for (var step = 0; step < 200; step++)
        {
            if (cache is null || cache.Length == seqLen)
            {
                cache?.Dispose();
                cache = model.NewCache(2);
            }
            using (var logits = model.Step(cache, next))                                  // [2,V]
            {
                var argmax = logits.argmax(-1);
                next.Dispose();
                next = argmax;
            }
            if (step is 60 or 180) samples[step] = (SettledRss(), DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        cache!.Dispose();
        next.Dispose();
        var growth = samples[180].Rss - samples[60].Rss;
        output.WriteLine($"RSS {samples[60].Rss / 1e6:F1} → {samples[180].Rss / 1e6:F1} MB, live tensors {samples[60].LiveTensors} → {samples[180].LiveTensors}");
        Assert.True(growth < 20L << 20, $"RSS grew by {growth / 1e6:F1} MB over 120 decoding steps");
        Assert.Equal(samples[60].LiveTensors, samples[180].LiveTensors);
    }

    [Fact]
    public void SparseFareContrastiveLoopStaysFlat()
    {
        using var data = SyntheticFairData.Create(seed: 0, trainCount: 256, testCount: 16);
        torch.manual_seed(0);
        var encoder = new MlpEncoder(data.Train.InputDim, 32, 16);
        using var model = new FairContrastiveModel(encoder, 16, new ProjectionHead(16, 16),
            new SparseFareLoss(data.SensitiveDim, new ContrastiveLossOptions { Buckets = 2, ChunkSize = 16 }));
        var indices = Enumerable.Range(0, 64).Select(i => (long)i).ToArray();
        AssertFlat((options, dir) => new Trainer(model, options, step =>
        {
            var x = data.Train.Inputs(indices);
            var (v1, v2) = StatFormer.Fairness.Data.TabularAugmentation.TwoViews(x);
            var loss = model.forward(v1, v2, new SensitiveBatch(data.Train.SensitiveStandardized[..64], data.Train.Groups[..64]));
            return new StepLoss(loss, null, 64);
        }, null, dir, "{}"));
    }
}
