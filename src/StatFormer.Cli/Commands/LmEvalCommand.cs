using System.CommandLine;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Options;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer lm eval`: clean and attacked perplexity of a trained run.</summary>
public static class LmEvalCommand
{
    public static Command Build()
    {
        var command = new Command("eval", "Evaluate a trained run (its best weights) on clean and word-swap-attacked test text.");
        var run = new Option<string>("--run") { Description = "The run folder written by `lm train` (holds checkpoint.bin and best_model.bin).", Required = true };
        var data = new Option<string?>("--data") { Description = "Evaluate on this data instead of the run's own (same tokenizer)." };
        // The evaluation and attack flags of the run tree; unless given, the run's own settings apply.
        var tree = new OptionTree<LmRunOptions>(OptionFlags.Lm.Where(f => f.Path.StartsWith("Eval.", StringComparison.Ordinal) && f.Path != "Eval.ValidTokens"
            || f.Path.StartsWith("Attack.", StringComparison.Ordinal) || f.Path == "Data.BatchSize"), new LmRunOptions());
        command.Options.Add(run);
        command.Options.Add(data);
        tree.AddTo(command, withConfig: false);
        var json = JsonFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var folder = result.GetValue(run)!;
            using var trained = TrainedLmRun.Load(folder);
            var (metadata, model) = (trained.Metadata, trained.Model);
            var config = metadata.Config;
            // Unless told otherwise, score the windows and attack draw the run's own summary was computed on.
            var baseline = metadata.Evaluation?.ApplyTo(new LmRunOptions()) ?? new LmRunOptions();
            var options = tree.Read(result, baseline with { Model = config });
            options.Validate();
            var dataset = LmDataset.Load(result.GetValue(data) ?? metadata.Data, trained.Tokenizer, metadata.DataSeed);
            var sets = EvaluationSets.Build(dataset, options);
            var evaluation = LmEvaluation.Evaluate(model, sets, options.Data.BatchSize, options.Eval.Stride);
            if (result.GetValue(json))
            {
                Output.Json(evaluation);
                return 0;
            }
            var header = new List<string> { "split", "perplexity", "swap rate (effective)" };
            var rows = new List<IReadOnlyList<string>>
            {
                new[] { "valid", LmTrainCommand.F(evaluation.ValidPpl), "-" },
                new[] { "test", LmTrainCommand.F(evaluation.TestPpl), "0" },
            };
            rows.AddRange(evaluation.AttackedTestPpl.Select(kv => (IReadOnlyList<string>)new[]
                { $"test attacked {kv.Key}", LmTrainCommand.F(kv.Value), $"{evaluation.AttackEffectiveRate[kv.Key]:P2}" }));
            Output.Table($"lm eval: {folder} ({EnumNames.Cli(config.Stack.Attention)}) on {dataset.Corpus.Name}", header, rows);
            if (LmTrainCommand.BitsLine(evaluation.TestBitsPerCharacter, evaluation.TestBitsPerByte) is { } bits) Output.Line(bits);
            return 0;
        }));
        return command;
    }
}
