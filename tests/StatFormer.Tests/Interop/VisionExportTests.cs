using System.Text.Json;
using StatFormer.Attention;
using StatFormer.Interop;
using StatFormer.Reporting;
using StatFormer.Tests.Training;
using StatFormer.Tests.Vision.Experiments;
using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using TorchSharp;

namespace StatFormer.Tests.Interop;

/// <summary>`statformer export` on a vision run: the exported state dict and config rebuild a model with the same logits.</summary>
[Collection(TrainingTestCollection.Name)]
public sealed class VisionExportTests
{
    [Theory]
    [InlineData("vit.safetensors", VisionArchitecture.Vit)]
    [InlineData("resnet.pt", VisionArchitecture.Resnet18)]
    public void An_exported_vision_run_rebuilds_to_the_same_logits(string file, VisionArchitecture architecture)
    {
        using var dir = new TempDir();
        using var data = LearnableImages.Create();
        var runDir = dir.File("run");
        VisionExperiment.Run(new VisionRunOptions
        {
            Data = new VisionDataOptions { BatchSize = 8 },
            Model = new VisionModelOptions
            {
                Architecture = architecture, PatchSize = 4, Normalization = VisionNormalization.None,
                Stack = new TransformerStackOptions { Layers = 2, DModel = 16, Heads = 2, Dropout = 0.0, FfnMultiplier = 2, Attention = AttentionKind.Elliptical },
            },
            Train = new TrainOptions { Steps = 3, WarmupSteps = 1, EvalEvery = 3 },
            Eval = new VisionEvalOptions { Attack = new() { Attacks = [AttackKind.Fgsm], MaxImages = 8 }, DiagnosticImages = 8 },
            Output = new() { OutDir = runDir },
        }, data: data);

        var weights = dir.File(file);
        var configPath = RunExport.Export(runDir, weights, file.EndsWith(".pt", StringComparison.Ordinal) ? StateDictFormat.Pytorch : StateDictFormat.Safetensors);
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        Assert.Equal("vision", config.RootElement.GetProperty("kind").GetString());
        var spec = config.RootElement.GetProperty("spec").Deserialize<VisionModelSpec>(JsonOutput.Options)!;

        using var trained = TrainedVisionRun.Load(runDir);
        torch.manual_seed(12345);   // other initial weights than the run's: only the loaded file can make the logits agree
        using var rebuilt = VisionModels.Create(spec);
        ModelWeights.Load(rebuilt, weights);
        rebuilt.eval();
        using var noGrad = torch.no_grad();
        var (images, _) = data.Test.Batch(torch.arange(8));
        using var expected = trained.Model.forward(images);
        using var actual = rebuilt.forward(images);
        Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6), $"max |Δlogit| {(expected - actual).abs().max().item<float>()}");
    }
}
