using System.CommandLine;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Language.Data;
using StatFormer.Language.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>
/// `statformer demo`: the README's main job, on embedded generated data only (no downloads, no files).
/// Part 1 compares language models on the synthetic corpus — softmax vs elliptical attention and SMoE vs
/// AC-SMoE layers; part 2 compares the five fair contrastive methods on the synthetic fairness dataset.
/// A few minutes on two cores; it ends with where the two reports are. Every `compare` option changes part 1.
/// </summary>
public static class DemoCommand
{
    /// <summary>The language-model settings: small enough for minutes on 2 cores, large enough for the curves to mean something.</summary>
    public static LmRunOptions DemoRun { get; } = new()
    {
        Data = LmDataset.Synthetic, Tokenizer = "word", Layers = 3, DModel = 64, Heads = 4, SeqLen = 64, Dropout = 0.1,
        BatchSize = 16, Steps = 400, LearningRate = 3e-3, WarmupSteps = 40, EvalEvery = 25, ValidTokens = 8192,
        AttackRates = new[] { 0.015, 0.05, 0.1, 0.2 },
    };

    public const string DefaultVariants = "softmax,elliptical,smoe,ac-smoe";

    public static Command Build()
    {
        var command = new Command("demo",
            "Run the two short comparisons on embedded synthetic data — language models (softmax vs elliptical attention, SMoE vs AC-SMoE) and fair contrastive learning (InfoNCE, Fair-InfoNCE, CCLK, FARE, SparseFARE) — and show where the reports are.");
        var read = CompareCommand.AddOptions(command, defaultSeeds: 2, defaultOut: Path.Combine("runs", "demo"), DefaultVariants, DemoRun, out var json);
        var fairEpochs = new Option<int>("--fair-epochs") { Description = "Epochs of the fair contrastive part (0 skips it).", DefaultValueFactory = _ => FairComparison.DemoRun.Epochs };
        command.Options.Add(fairEpochs);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var lm = read(result);
            var epochs = result.GetValue(fairEpochs);
            if (epochs < 0) throw new UserInputException($"--fair-epochs must be 0 (skip) or positive (got {epochs})");
            var isJson = result.GetValue(json);
            var root = lm.OutDir;
            var lmSummary = CompareCommand.RunAndPrint(lm with { OutDir = Path.Combine(root, "lm") }, isJson, cancellationToken);
            FairComparisonSummary? fairSummary = null;
            if (epochs > 0)
            {
                var fair = new FairComparisonOptions
                {
                    Run = FairComparison.DemoRun with { Epochs = epochs, Resume = lm.Resume, Overwrite = lm.Overwrite },
                    Methods = Enum.GetValues<ContrastiveMethod>(),
                    Seeds = lm.Seeds,
                    OutDir = Path.Combine(root, "fair"),
                    Resume = lm.Resume,
                    Overwrite = lm.Overwrite,
                };
                fairSummary = FairCompareCommand.RunAndPrint(fair, isJson, cancellationToken);
            }
            if (isJson) Output.Json(new DemoSummary(lmSummary, fairSummary));
            return 0;
        }));
        return command;
    }

    /// <summary>What `demo --json` prints: the two comparison summaries.</summary>
    public sealed record DemoSummary(ComparisonSummary LanguageModels, FairComparisonSummary? Fairness);
}
