using System.Text.Json;
using StatFormer.Attention;
using StatFormer.IO;
using StatFormer.Moe;
using StatFormer.Reporting;
using StatFormer.Tests.Training;
using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using TorchSharp;
using Xunit.Abstractions;

namespace StatFormer.Tests.Vision.Experiments;

/// <summary>A vision run end to end on learnable images: it learns, it is deterministic, it resumes exactly, it stays flat in memory.</summary>
[Collection(TrainingTestCollection.Name)]
public sealed class VisionExperimentTests(ITestOutputHelper output)
{
    private static VisionRunOptions Tiny(string outDir, int steps = 40, AttentionKind attention = AttentionKind.Elliptical) => new()
    {
        Data = new VisionDataOptions { BatchSize = 16 },
        Model = new VisionModelOptions
        {
            PatchSize = 4, Normalization = VisionNormalization.None,
            Stack = new TransformerStackOptions { Layers = 2, DModel = 16, Heads = 2, Dropout = 0.1, DropPath = 0.1, FfnMultiplier = 2, Attention = attention },
        },
        Train = new TrainOptions { Steps = steps, LearningRate = 3e-3, MinLearningRate = null, WarmupSteps = 5, WeightDecay = 0.05, Beta2 = 0.999, EvalEvery = 10 },
        Eval = new VisionEvalOptions
        {
            Attack = new AttackOptions { Attacks = [AttackKind.Fgsm, AttackKind.Pgd], Epsilons = [0.02, 0.1], PgdSteps = 3, MaxImages = 64, BatchSize = 32 },
            DiagnosticImages = 32,
        },
        Output = new() { OutDir = outDir },
    };

    [Fact]
    public void ATinyVitLearnsAndIsMeasured()
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        var options = Tiny(dir.Path, steps: 100) with { Eval = Tiny(dir.Path).Eval with { Estimator = EllipticalEstimator.Median } };
        var summary = VisionExperiment.Run(options, data: data);
        var losses = File.ReadAllLines(dir.File(Trainer.MetricsFileName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToList();
        output.WriteLine($"loss {losses[0]:F3} → {losses[^1]:F3}, clean {summary.CleanAccuracy:P1}, robust {string.Join(", ", summary.Robustness.Curves.SelectMany(c => c.Points.Select(p => $"{c.Attack}@{p.Epsilon}: {p.RobustAccuracy:P0}")))}");
        Assert.True(losses[^1] < losses[0] - 0.4, $"the loss should fall (from {losses[0]:F3} to {losses[^1]:F3})");
        Assert.True(summary.CleanAccuracy > 0.6, $"accuracy {summary.CleanAccuracy:P1} should beat chance (25 %) by a margin");
        Assert.Equal(128, summary.TestImages);
        Assert.Equal("elliptical-median", summary.Variant);
        Assert.Equal("sequence", summary.TrainEstimator);
        Assert.Equal("median", summary.EvalEstimator);
        Assert.Equal(64, summary.Robustness.Images);
        // A larger ε never helps the model under the same attack; PGD is at least as strong as FGSM here.
        foreach (var curve in summary.Robustness.Curves) Assert.True(curve.Points[1].RobustAccuracy <= curve.Points[0].RobustAccuracy + 1e-9, curve.Attack);
        Assert.Equal(2, summary.Layers.Count);
        Assert.Null(summary.Layers[0].MetricMean);
        Assert.InRange(summary.Layers[1].MetricMean!.Value, 0, 1);
        Assert.All(summary.Layers, l => Assert.InRange(l.RepresentationCollapse, -1, 1));
        foreach (var file in new[] { VisionExperiment.SummaryFileName, VisionExperiment.LearningCurveFileName, VisionExperiment.RobustnessFileName, Trainer.CheckpointFileName })
            Assert.True(File.Exists(dir.File(file)), file);
    }

    [Fact]
    public void CancelledThenResumedRunEqualsUninterruptedRunAndTheSameSeedGivesTheSameNumbers()
    {
        using var data = LearnableImages.Create();
        // Augmentation, dropout, drop-path and PGD adversarial training all draw random numbers every step.
        VisionRunOptions Options(string dir) => Tiny(dir, steps: 24) with
        {
            Data = new VisionDataOptions { BatchSize = 16, Augment = new ImageAugmentationOptions { RandomCropPadding = 1, HorizontalFlip = true } },
            Adversarial = new AdversarialTrainingOptions { Epsilon = 0.03, Steps = 2, StepFraction = 0.5 },
        };
        using var whole = new TempDir();
        using var again = new TempDir();
        using var resumed = new TempDir();
        var uninterrupted = VisionExperiment.Run(Options(whole.Path), data: data);
        var repeated = VisionExperiment.Run(Options(again.Path), data: data);

        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step == 12) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => VisionExperiment.Run(Options(resumed.Path), progress, data, cancel.Token));
        var continued = VisionExperiment.Run(Options(resumed.Path) with { Output = new() { OutDir = resumed.Path, Resume = true } }, data: data);

        foreach (var other in new[] { repeated, continued })
        {
            Assert.Equal(File.ReadAllLines(whole.File(Trainer.MetricsFileName)).Select(Loss), File.ReadAllLines(Path.Combine(other.Options.Output.OutDir, Trainer.MetricsFileName)).Select(Loss));
            Assert.Equal(uninterrupted.FinalTrainLoss, other.FinalTrainLoss);
            Assert.Equal(uninterrupted.CleanAccuracy, other.CleanAccuracy);
            Assert.Equal(JsonSerializer.Serialize(uninterrupted.Robustness), JsonSerializer.Serialize(other.Robustness));
        }

        // Another seed is another run.
        using var seeded = new TempDir();
        var other2 = VisionExperiment.Run(Options(seeded.Path) with { Train = Options(seeded.Path).Train with { Seed = 1 } }, data: data);
        Assert.NotEqual(uninterrupted.FinalTrainLoss, other2.FinalTrainLoss);
    }

    /// <summary>An AC-SMoE ViT (MoE in both blocks, the first on the base router) learns with the balance loss in its objective, and resumes exactly.</summary>
    [Fact]
    public void AnMoeVitLearnsWithTheBalanceLossAndResumesExactly()
    {
        using var data = LearnableImages.Create();
        VisionRunOptions Options(string dir, int steps) => Tiny(dir, steps, AttentionKind.Softmax) with
        {
            Model = Tiny(dir).Model with
            {
                Stack = Tiny(dir, attention: AttentionKind.Softmax).Model.Stack with
                {
                    Moe = new MoeLayout { Router = MoeKind.AcSmoe, Every = 1, BalanceWeight = 0.01, AcBaseLayers = 1, Layer = new MoeOptions { Experts = 4, TopK = 2, CapacityFactor = 1.25 } },
                },
            },
        };
        using var whole = new TempDir();
        var summary = VisionExperiment.Run(Options(whole.Path, 60), data: data);
        var records = File.ReadAllLines(whole.File(Trainer.MetricsFileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var losses = records.Select(r => r.GetProperty("loss").GetDouble()).ToList();
        output.WriteLine($"ac-smoe loss {losses[0]:F3} → {losses[^1]:F3}, clean {summary.CleanAccuracy:P1}");
        Assert.Equal("ac-smoe", summary.Variant);
        // The summary carries the routing diagnostics of the whole test set: each of the 128 images' tokens labelled with its class (32 images each).
        var routing = summary.Routing!;
        const int tokens = 5;   // 4 patches and the class token
        Assert.Equal(128L * tokens, routing.Tokens);
        Assert.Equal(2, routing.Layers.Count);
        Assert.Single(routing.StabilityNmi);
        foreach (var layer in routing.Layers)
        {
            Assert.All(Enumerable.Range(0, 4), c => Assert.Equal(32.0 * tokens, layer.TopicConfusion!.Sum(row => row[c])));
            Assert.InRange(layer.TopicPurity!.Value, 0.25, 1);
            Assert.InRange(layer.TopicNmi!.Value, 0, 1);
        }
        var written = JsonSerializer.Deserialize<VisionRunSummary>(File.ReadAllText(whole.File(VisionExperiment.SummaryFileName)), JsonOutput.Options)!;
        Assert.Equal(routing.MeanTopicNmi, written.Routing!.MeanTopicNmi);
        Assert.True(losses[^1] < losses[0] - 0.3, $"the loss should fall (from {losses[0]:F3} to {losses[^1]:F3})");
        // The weighted balance loss is logged every step (two layers at weight 0.01, each E·Σ f·P ≈ 1 near balance).
        Assert.All(records, r => Assert.InRange(r.GetProperty("aux_loss").GetDouble(), 1e-4, 1.0));

        using var resumed = new TempDir();
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step == 30) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => VisionExperiment.Run(Options(resumed.Path, 60), progress, data, cancel.Token));
        var continued = VisionExperiment.Run(Options(resumed.Path, 60) with { Output = new() { OutDir = resumed.Path, Resume = true } }, data: data);
        Assert.Equal(losses, File.ReadAllLines(resumed.File(Trainer.MetricsFileName)).Select(Loss));
        Assert.Equal(summary.CleanAccuracy, continued.CleanAccuracy);
    }

    private static double Loss(string line) => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetDouble();

    [Fact]
    public void ResumingAFolderOfAnotherVariantIsRefused()
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        VisionExperiment.Run(Tiny(dir.Path, steps: 2), data: data);
        var softmax = Tiny(dir.Path, steps: 4, AttentionKind.Softmax) with { Output = new() { OutDir = dir.Path, Resume = true } };
        var e = Assert.Throws<RunFolderConflictException>(() => VisionExperiment.Run(softmax, data: data));
        Assert.Contains("attention", e.Message);
    }

    [Fact]
    public void BadOptionsNameTheirProperty()
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        var patch = Assert.Throws<ArgumentException>(() => VisionExperiment.Run(Tiny(dir.Path) with { Model = Tiny(dir.Path).Model with { PatchSize = 3 } }, data: data));
        Assert.Equal("Model.PatchSize", patch.ParamName);
        using var dir2 = new TempDir();
        var batch = Assert.Throws<ArgumentException>(() => VisionExperiment.Run(Tiny(dir2.Path) with { Data = new VisionDataOptions { BatchSize = 1000 } }, data: data));
        Assert.Equal("Data.BatchSize", batch.ParamName);
        var smoothing = Assert.Throws<ArgumentException>(() => (Tiny(dir.Path) with { LabelSmoothing = 1 }).Validate());
        Assert.Equal("LabelSmoothing", smoothing.ParamName);
        var estimator = Assert.Throws<ArgumentException>(() => (Tiny(dir.Path) with { Eval = new VisionEvalOptions { Estimator = EllipticalEstimator.Causal } }).Validate());
        Assert.Equal("Eval.Estimator", estimator.ParamName);
    }

    [Fact]
    public void ALongTrainingLoopStaysFlatInMemory()
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        var samples = new Dictionary<long, (long Rss, long LiveTensors)>();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step is 60 or 200) samples[p.Step] = (SettledRss(), DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        });
        var options = Tiny(dir.Path, steps: 200) with
        {
            Data = new VisionDataOptions { BatchSize = 16, Augment = new ImageAugmentationOptions { RandomCropPadding = 1, HorizontalFlip = true } },
            Adversarial = new AdversarialTrainingOptions { Epsilon = 0.03, Steps = 2 },
            Train = Tiny(dir.Path).Train with { Steps = 200, LogEvery = 20, EvalEvery = 1000 },
        };
        VisionExperiment.Run(options, progress, data);
        var growth = samples[200].Rss - samples[60].Rss;
        output.WriteLine($"RSS {samples[60].Rss / 1e6:F1} → {samples[200].Rss / 1e6:F1} MB, live tensors {samples[60].LiveTensors} → {samples[200].LiveTensors}");
        Assert.True(growth < 20L << 20, $"RSS grew by {growth / 1e6:F1} MB over 140 steps");
        Assert.Equal(samples[60].LiveTensors, samples[200].LiveTensors);
    }

    private static long SettledRss()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;
    }
}
