using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;

namespace StatFormer.Tests.Fairness.Experiments;

/// <summary>The tiny fair-contrastive settings the run, comparison and CLI tests train with: about a second per run on one core.</summary>
internal static class FairRunFixtures
{
    public static FairRunOptions Tiny(string outDir, ContrastiveMethod method = ContrastiveMethod.Fare, int seed = 0) => new()
    {
        Data = new() { Dataset = FairRunOptions.Synthetic, TrainLimit = 512, TestLimit = 256 },
        Model = new() { Method = method, MlpHidden = 32, MlpOutput = 16, ProjectionDim = 32 },
        Train = new() { Seed = seed, Epochs = 3, BatchSize = 64, LearningRate = 3e-3 },
        Eval = new() { ProbeTrainLimit = 384 },
        Loss = new ContrastiveLossOptions { ChunkSize = 16 }, Output = new() { OutDir = outDir },
    };

    public static FairRunOptions Resumed(FairRunOptions o) => o with { Output = o.Output with { Resume = true } };

    public static FairRunOptions WithEpochs(FairRunOptions o, int epochs) => o with { Train = o.Train with { Epochs = epochs } };

    public static FairComparisonOptions Resumed(FairComparisonOptions o) => o with { Run = Resumed(o.Run) };

    /// <summary>The same settings as command-line arguments (without --data, --method/--methods, --out).</summary>
    public static string[] TinyArgs() =>
    [
        "--epochs", "3", "--batch-size", "64", "--lr", "0.003", "--train-limit", "512", "--test-limit", "256",
        "--probe-train-limit", "384", "--chunk-size", "16",
    ];
}
