using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;

namespace StatFormer.Cli.Commands;

/// <summary>
/// The demo's vision part: softmax vs elliptical ViTs on the embedded synthetic images (1×16×16, 4×4 patches: 16 tokens),
/// attacked by FGSM, PGD and a short SPSA. About a minute on 2 cores with two seeds.
/// </summary>
public static class DemoVisionPart
{
    public const int DefaultSteps = 150;

    /// <summary>The settings: small enough for seconds per run, large enough for the classes to be learned.</summary>
    public static VisionRunOptions DemoRun { get; } = new VisionRunOptions() with
    {
        Data = new VisionDataOptions
        {
            Source = VisionDataSource.Synthetic, BatchSize = 64,
            Synthetic = new SyntheticImageOptions { Classes = 4, Channels = 1, Size = 16, PatchSize = 4, TrainCount = 2048, TestCount = 512, InformativeFeatures = 4 },
        },
        Model = new VisionModelOptions
        {
            PatchSize = 4, Pooling = VisionPooling.Mean,
            Stack = new TransformerStackOptions { Layers = 3, DModel = 32, Heads = 2, Dropout = 0, DropPath = 0.05, FfnMultiplier = 2 },
        },
        Train = new VisionRunOptions().Train with { Steps = DefaultSteps, LearningRate = 3e-3, WarmupSteps = 30 },
        Eval = new VisionEvalOptions
        {
            Attack = new AttackOptions
            {
                Attacks = [AttackKind.Fgsm, AttackKind.Pgd, AttackKind.Spsa], Epsilons = [2.0 / 255, 8.0 / 255], PgdSteps = 10,
                SpsaIterations = 8, SpsaSamples = 32, MaxImages = 128,
            },
            DiagnosticImages = 128,
        },
    };

    /// <summary>Runs the vision comparison into <paramref name="outDir"/> and prints it (unless <paramref name="json"/>).</summary>
    public static VisionComparisonSummary Run(string outDir, IReadOnlyList<int> seeds, int steps, bool resume, bool overwrite, bool json, CancellationToken cancellationToken,
        TorchSharp.torch.Device? device = null)
    {
        var options = new VisionComparisonOptions
        {
            Run = DemoRun with { Train = DemoRun.Train with { Steps = steps, WarmupSteps = Math.Min(DemoRun.Train.WarmupSteps, steps) }, Output = new() { OutDir = outDir, Resume = resume, Overwrite = overwrite } },
            Variants = [VisionVariant.Softmax, VisionVariant.Elliptical],
            Seeds = seeds,
        };
        return VisionCompareCommand.RunAndPrint(options, json, cancellationToken, device);
    }
}
