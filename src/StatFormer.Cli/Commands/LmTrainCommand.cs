using StatFormer.Options;
using System.CommandLine;
using System.Globalization;
using StatFormer.Language.Experiments;
using StatFormer.Moe;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer lm train`: one model, trained, evaluated clean and attacked, written to --out.</summary>
public static class LmTrainCommand
{
    public static Command Build()
    {
        var command = new Command("train", "Train one language model, then evaluate clean and word-swap-attacked perplexity. Writes summary.json, metrics.jsonl, checkpoint.bin and a learning-curve plot to --out.");
        var shared = new RunOptionSet();
        shared.AddTo(command);
        var attention = RunOptionSet.Choice("--attention", "Self-attention.", "softmax", "softmax", "elliptical");
        var moe = RunOptionSet.Choice("--moe", "Feed-forward layers: dense (none) or Mixture of Experts with a linear (smoe), cosine (xmoe) or Adaptive Clustering router over either (ac-smoe, ac-xmoe).",
            "none", EnumNames.CliNames<MoeKind>().ToArray());
        var seed = new Option<int>("--seed") { Description = "Seed of initialisation, batches and dropout.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "runs/lm" };
        command.Options.Add(attention);
        command.Options.Add(moe);
        command.Options.Add(seed);
        command.Options.Add(outDir);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var options = shared.Read(result) with
            {
                Attention = RunOptionSet.ParseAttention(result.GetValue(attention)!),
                Moe = EnumNames.Parse<MoeKind>(result.GetValue(moe)!),
                Seed = result.GetValue(seed),
                OutDir = result.GetValue(outDir)!,
            };
            var json = result.GetValue(shared.Json);
            var view = new TrainingProgressView();
            var (summary, _) = view.Run(progressFor => LmExperiment.Run(options, progressFor($"{new ModelVariant(options.Attention, options.Moe).Name} seed {options.Seed}"),
                cancellationToken: cancellationToken));
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var header = new List<string> { "variant", "params", "steps", "valid ppl", "test ppl" };
            header.AddRange(summary.AttackedTestPpl.Keys.Select(k => $"attacked {k}"));
            header.Add("tokens/s");
            var row = new List<string>
            {
                summary.VariantName, summary.Params.ToString("N0", CultureInfo.InvariantCulture), summary.Steps.ToString(CultureInfo.InvariantCulture),
                F(summary.ValidPpl), F(summary.TestPpl),
            };
            row.AddRange(summary.AttackedTestPpl.Values.Select(F));
            row.Add(summary.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture));
            Output.Table($"lm train: {summary.Data} ({summary.Tokenizer})", header, new[] { row });
            Output.Line($"run folder: {Path.GetFullPath(options.OutDir)}");
            return 0;
        }));
        return command;
    }

    internal static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
