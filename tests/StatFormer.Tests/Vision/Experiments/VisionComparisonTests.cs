using StatFormer.Tests.Training;
using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;

namespace StatFormer.Tests.Vision.Experiments;

[Collection(TrainingTestCollection.Name)]
public sealed class VisionComparisonTests
{
    private static VisionRunOptions Tiny(string outDir) => new()
    {
        Data = new VisionDataOptions
        {
            BatchSize = 16,
            Synthetic = new SyntheticImageOptions { Classes = 4, Channels = 1, Size = 8, PatchSize = 4, TrainCount = 96, TestCount = 48, InformativeFeatures = 2 },
        },
        Model = new VisionModelOptions { PatchSize = 4, Stack = new TransformerStackOptions { Layers = 2, DModel = 16, Heads = 2, FfnMultiplier = 2 } },
        Train = new VisionRunOptions().Train with { Steps = 12, WarmupSteps = 2 },
        Eval = new VisionEvalOptions { Attack = new AttackOptions { Attacks = [AttackKind.Fgsm], Epsilons = [4.0 / 255], MaxImages = 32 }, DiagnosticImages = 16 },
        Output = new() { OutDir = outDir },
    };

    /// <summary>
    /// elliptical-median is the elliptical run evaluated with the median estimator: it starts from that run's checkpoint
    /// instead of training again (its metrics log, timings included, is the elliptical run's, which a second training
    /// could not reproduce), and alone it trains to the very same model.
    /// </summary>
    [Fact]
    public void EllipticalMedianEvaluatesTheEllipticalRunsModelWithoutTrainingIt()
    {
        using var both = new TempDir();
        var summary = VisionComparison.Run(new VisionComparisonOptions { Run = Tiny(both.Path), Variants = [VisionVariant.Elliptical, VisionVariant.EllipticalMedian], Seeds = [0] });
        var elliptical = summary.Runs.Single(r => r.Variant == "elliptical");
        var median = summary.Runs.Single(r => r.Variant == "elliptical-median");
        Assert.Equal("median", median.EvalEstimator);
        Assert.Equal(elliptical.Steps, median.Steps);
        Assert.Equal(elliptical.FinalTrainLoss, median.FinalTrainLoss);
        Assert.Equal(File.ReadAllText(Path.Combine(both.Path, "elliptical-seed0", Trainer.MetricsFileName)),
            File.ReadAllText(Path.Combine(both.Path, "elliptical-median-seed0", Trainer.MetricsFileName)));

        using var alone = new TempDir();
        var trained = VisionComparison.Run(new VisionComparisonOptions { Run = Tiny(alone.Path), Variants = [VisionVariant.EllipticalMedian], Seeds = [0] }).Runs.Single();
        Assert.Equal(median.FinalTrainLoss, trained.FinalTrainLoss);
        Assert.Equal(median.CleanAccuracy, trained.CleanAccuracy);
        Assert.NotEqual(File.ReadAllText(Path.Combine(both.Path, "elliptical-seed0", Trainer.MetricsFileName)),
            File.ReadAllText(Path.Combine(alone.Path, "elliptical-median-seed0", Trainer.MetricsFileName)));

        // Overwriting the comparison copies the new elliptical checkpoint over the old median run.
        var again = VisionComparison.Run(new VisionComparisonOptions
        {
            Run = Tiny(both.Path) with { Output = new() { OutDir = both.Path, Overwrite = true } }, Variants = [VisionVariant.Elliptical, VisionVariant.EllipticalMedian], Seeds = [0],
        });
        Assert.Equal(File.ReadAllText(Path.Combine(both.Path, "elliptical-seed0", Trainer.MetricsFileName)),
            File.ReadAllText(Path.Combine(both.Path, "elliptical-median-seed0", Trainer.MetricsFileName)));
        Assert.Equal(median.CleanAccuracy, again.Runs.Single(r => r.Variant == "elliptical-median").CleanAccuracy);
    }
}
