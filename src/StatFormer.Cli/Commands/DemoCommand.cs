using System.CommandLine;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Language.Data;
using StatFormer.Language.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>
/// `statformer demo`: the README's main job, on embedded generated data only (no downloads, no files).
/// First the three mechanism probes (<see cref="DemoProbes"/>); then part 1 compares language models on the synthetic corpus — softmax vs elliptical attention and SMoE vs
/// AC-SMoE layers; part 2 compares the five fair contrastive methods on the synthetic fairness dataset.
/// A few minutes on two cores; it ends with where the two reports are. Every `compare` option changes part 1.
/// </summary>
public static class DemoCommand
{
    /// <summary>The language-model settings: small enough for minutes on 2 cores, large enough for the curves to mean something.</summary>
    public static LmRunOptions DemoRun { get; } = SmallRun(new LmRunOptions());

    private static LmRunOptions SmallRun(LmRunOptions defaults) => defaults with
    {
        Data = defaults.Data with { Source = LmDataset.Synthetic, Tokenizer = "word", BatchSize = 16 },
        Model = defaults.Model with { SeqLen = 64, Stack = defaults.Model.Stack with { Layers = 3, DModel = 64, Heads = 4, Dropout = 0.1 } },
        Train = defaults.Train with { Steps = 400, LearningRate = 3e-3, WarmupSteps = 40, EvalEvery = 25 },
        Eval = defaults.Eval with { ValidTokens = 8192 },
        Attack = defaults.Attack with { Rates = [0.015, 0.05, 0.1, 0.2] },
    };

    public const string DefaultVariants = "softmax,elliptical,smoe,ac-smoe";

    public static Command Build()
    {
        var command = new Command("demo",
            "Run the three mechanism probes (elliptical, ac, fare: what each paper predicts vs what is measured), then the short comparisons on embedded synthetic data — language models (softmax vs elliptical attention, SMoE vs AC-SMoE), fair contrastive learning (InfoNCE, Fair-InfoNCE, CCLK, FARE, SparseFARE) and image classifiers (softmax vs elliptical ViT under FGSM, PGD and SPSA) — and show where the reports are.");
        var read = CompareCommand.AddOptions(command, defaultSeeds: 2, defaultOut: Path.Combine("runs", "demo"), DefaultVariants, DemoRun, out var json);
        var fairEpochs = new Option<int>("--fair-epochs") { Description = OptionFlags.Comparison.First(f => f.Path == "FairEpochs").Description, DefaultValueFactory = _ => FairComparison.DemoRun.Train.Epochs };
        command.Options.Add(fairEpochs);
        var visionSteps = new Option<int>("--vision-steps") { Description = OptionFlags.Comparison.First(f => f.Path == "VisionSteps").Description, DefaultValueFactory = _ => DemoVisionPart.DefaultSteps };
        command.Options.Add(visionSteps);
        var runProbes = DemoProbes.AddTo(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var lm = read(result);
            var epochs = result.GetValue(fairEpochs);
            if (epochs < 0) throw new ArgumentException($"must be 0 (skip) or positive (got {epochs})", "FairEpochs");
            var isJson = result.GetValue(json);
            var output = lm.Run.Output;
            var probes = runProbes(result, output.OutDir, isJson, device, cancellationToken);
            var lmSummary = CompareCommand.RunAndPrint(lm with { Run = lm.Run with { Output = output with { OutDir = Path.Combine(output.OutDir, "lm") } } }, isJson, device, cancellationToken);
            FairComparisonSummary? fairSummary = null;
            if (epochs > 0)
            {
                var demo = FairComparison.DemoRun;
                var fair = new FairComparisonOptions
                {
                    Run = demo with
                    {
                        Train = demo.Train with { Epochs = epochs },
                        Output = output with { OutDir = Path.Combine(output.OutDir, "fair") },
                    },
                    Methods = Enum.GetValues<ContrastiveMethod>(),
                    Seeds = lm.Seeds,
                };
                fairSummary = FairCompareCommand.RunAndPrint(fair, isJson, cancellationToken, device);
            }
            var steps = result.GetValue(visionSteps);
            if (steps < 0) throw new ArgumentException($"must be 0 (skip) or positive (got {steps})", "VisionSteps");
            var visionSummary = steps > 0
                ? DemoVisionPart.Run(Path.Combine(output.OutDir, "vision"), lm.Seeds, steps, output.Resume, output.Overwrite, isJson, cancellationToken, device)
                : null;
            if (isJson) Output.Json(new DemoSummary(lmSummary, fairSummary, probes, visionSummary));
            return 0;
        }));
        return command;
    }

    /// <summary>What `demo --json` prints: the probes' findings and the comparison summaries.</summary>
    public sealed record DemoSummary(LmComparisonSummary LanguageModels, FairComparisonSummary? Fairness, DemoProbeSummary? Probes = null, Vision.Experiments.VisionComparisonSummary? Vision = null);
}
