using System.CommandLine;
using StatFormer.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>
/// `statformer demo`: the README's main job. A short softmax-vs-elliptical comparison on the embedded
/// synthetic corpus (no downloads, no files), a few minutes on two cores, ending with where the report is.
/// Every `compare` option can still be given to change it.
/// </summary>
public static class DemoCommand
{
    /// <summary>The demo's settings: small enough for minutes on 2 cores, large enough for the curves to mean something.</summary>
    public static LmRunOptions DemoRun { get; } = new()
    {
        Data = LmDataset.Synthetic, Tokenizer = "word", Layers = 3, DModel = 64, Heads = 4, SeqLen = 64, Dropout = 0.1,
        BatchSize = 16, Steps = 400, LearningRate = 3e-3, WarmupSteps = 40, EvalEvery = 50, ValidTokens = 8192,
        AttackRates = new[] { 0.015, 0.05, 0.1, 0.2 },
    };

    public static Command Build() => CompareCommand.Create("demo",
        "Run a short comparison (softmax vs elliptical attention, SMoE vs AC-SMoE) on the embedded synthetic corpus and show where the report is.",
        defaultSeeds: 2, defaultOut: "runs/demo", defaultVariants: "softmax,elliptical,smoe,ac-smoe", baseline: DemoRun);
}
