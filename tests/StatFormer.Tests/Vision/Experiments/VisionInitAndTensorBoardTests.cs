using StatFormer.Attention;
using StatFormer.Interop;
using StatFormer.Moe;
using StatFormer.Tests.Training;
using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Experiments;

/// <summary>`vision train --init-from` (fine-tuning from exported weights) and the ViT's TensorBoard extras.</summary>
[Collection(TrainingTestCollection.Name)]
public sealed class VisionInitAndTensorBoardTests
{
    private static VisionRunOptions Tiny(string outDir, int steps, TransformerStackOptions? stack = null) => new()
    {
        Data = new VisionDataOptions { BatchSize = 16 },
        Model = new VisionModelOptions
        {
            PatchSize = 4, Normalization = VisionNormalization.None,
            Stack = stack ?? new TransformerStackOptions { Layers = 2, DModel = 16, Heads = 2, Dropout = 0.1, FfnMultiplier = 2, Attention = AttentionKind.Elliptical },
        },
        Train = new TrainOptions { Steps = steps, LearningRate = 3e-3, MinLearningRate = null, WarmupSteps = 5, WeightDecay = 0.05, Beta2 = 0.999, EvalEvery = 10 },
        Eval = new VisionEvalOptions { Attack = new AttackOptions { Attacks = [AttackKind.Fgsm], Epsilons = [0.02], MaxImages = 32, BatchSize = 32 }, DiagnosticImages = 16 },
        Output = new() { OutDir = outDir },
    };

    [Fact]
    public void A_run_fine_tunes_from_an_exported_state_dict_whose_names_and_shapes_are_checked()
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        var trained = VisionExperiment.Run(Tiny(dir.File("trained"), steps: 60), data: data);
        var weights = dir.File("vit.safetensors");
        RunExport.Export(dir.File("trained"), weights, StateDictFormat.Safetensors);

        // One step at a negligible learning rate: a run started from the file measures what the trained run measured,
        // a run from fresh weights (the same seed, hence the same initialisation before loading) does not.
        VisionRunOptions Still(string name, string? initFrom) => Tiny(dir.File(name), steps: 1) with
        {
            InitFrom = initFrom,
            Train = Tiny("", 1).Train with { LearningRate = 1e-9, WarmupSteps = 0 },
        };
        var fineTuned = VisionExperiment.Run(Still("fine-tuned", weights), data: data);
        var fresh = VisionExperiment.Run(Still("fresh", null), data: data);
        Assert.Equal(trained.CleanLoss, fineTuned.CleanLoss, 4);
        Assert.Equal(trained.CleanAccuracy, fineTuned.CleanAccuracy);
        Assert.True(Math.Abs(fresh.CleanLoss - trained.CleanLoss) > 0.1, $"fresh {fresh.CleanLoss} vs trained {trained.CleanLoss}");
        Assert.Equal(weights, fineTuned.Options!.InitFrom);

        // Another architecture or width: one error naming what is missing, unexpected or mismatched.
        var resnet = Tiny(dir.File("resnet"), steps: 1) with { InitFrom = weights };
        resnet = resnet with { Model = resnet.Model with { Architecture = VisionArchitecture.Resnet18 } };
        var wrongModel = Assert.Throws<InvalidDataException>(() => VisionExperiment.Run(resnet, data: data));
        Assert.Contains("missing: ", wrongModel.Message);
        Assert.Contains("unexpected: ", wrongModel.Message);
        var wider = Tiny(dir.File("wider"), steps: 1, new TransformerStackOptions { Layers = 2, DModel = 32, Heads = 2, FfnMultiplier = 2, Attention = AttentionKind.Elliptical })
            with
        { InitFrom = weights };
        var wrongShape = Assert.Throws<InvalidDataException>(() => VisionExperiment.Run(wider, data: data));
        Assert.Contains("mismatched: ", wrongShape.Message);
        Assert.Contains("positionEmbedding (file [1,5,16], model [1,5,32])", wrongShape.Message);   // 4 patches of the 8×8 images + the class token

        var missing = Tiny(dir.File("missing"), steps: 1) with { InitFrom = dir.File("nothing.pt") };
        Assert.Equal(nameof(VisionRunOptions.InitFrom), Assert.Throws<ArgumentException>(missing.Validate).ParamName);
    }

    [Fact]
    public void A_vit_run_logs_elliptical_metric_histograms_and_expert_load_that_match_its_model()
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        var stack = new TransformerStackOptions
        {
            Layers = 3, DModel = 16, Heads = 2, Dropout = 0.1, FfnMultiplier = 2, Attention = AttentionKind.Elliptical,
            Moe = new MoeLayout { Router = MoeKind.Smoe, Layer = new MoeOptions { Experts = 4, TopK = 2 } },
        };
        var runDir = dir.File("run");
        VisionExperiment.Run(Tiny(runDir, steps: 20, stack), data: data);

        var values = TensorBoardRecords.Files(runDir).SelectMany(f => TensorBoardEventFile.Read(f).Values).ToList();
        var histograms = values.Where(v => v.Tag.StartsWith("elliptical/", StringComparison.Ordinal)).ToList();
        // Checkpoint steps 10 and 20; every layer but the first is elliptical.
        Assert.Equal(new[] { "elliptical/layer1/metric", "elliptical/layer2/metric" }, histograms.Select(h => h.Tag).Distinct().Order());
        Assert.Equal(new long[] { 10, 10, 20, 20 }, histograms.Select(h => h.Step).Order());
        Assert.True(values.Count(v => v.Tag == "train/loss") >= 2);

        // The last ones (step 20, the final weights) recomputed from the saved model on the same images: the first batch of the training set.
        using var trained = TrainedVisionRun.Load(runDir);
        var vit = Assert.IsType<VisionTransformer>(trained.Model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (images, _) = data.Train.Batch(0, 16);
        var layers = vit.Run(images, recordIntermediates: true).Layers!;
        foreach (var layer in new[] { 1, 2 })
        {
            var metric = layers[layer].Metric!.to(ScalarType.Float64);
            var logged = histograms.Single(h => h.Step == 20 && h.Tag == $"elliptical/layer{layer}/metric");
            Assert.Equal(metric.numel(), logged.HistogramCount);
            Assert.Equal(metric.min().item<double>(), logged.HistogramMin, 6);
            Assert.Equal(metric.max().item<double>(), logged.HistogramMax, 6);
        }
        Assert.NotEmpty(stack.MoeLayers);
        foreach (var layer in stack.MoeLayers)
        {
            var chosen = layers[layer].Routing!.TopIndices.flatten().data<long>().ToArray();
            for (var e = 0; e < 4; e++)
            {
                var logged = values.Single(v => v.Step == 20 && v.Tag == $"moe/layer{layer}/expert_load/{e}");
                Assert.Equal((float)((double)chosen.Count(c => c == e) / chosen.Length), logged.Scalar!.Value, 6);
            }
        }
    }
}
