using System.CommandLine;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using StatFormer.Training;
using TorchSharp;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer lm eval`: clean and attacked perplexity of a trained run.</summary>
public static class LmEvalCommand
{
    public static Command Build()
    {
        var command = new Command("eval", "Evaluate a trained run (its best weights) on clean and word-swap-attacked test text.");
        var run = new Option<string>("--run") { Description = "The run folder written by `lm train` (holds checkpoint.bin and best_model.bin).", Required = true };
        var data = new Option<string?>("--data") { Description = "Evaluate on this data instead of the run's own (same tokenizer)." };
        var shared = new RunOptionSet();
        var batch = new Option<int?>("--batch-size") { Description = "Windows per forward pass (default: the run's batch size)." };
        foreach (var option in new Option[] { run, data, batch, shared.EvalTokens, shared.Stride, shared.AttackRates, shared.AttackMode, shared.AttackUnit, shared.AttackSeed, shared.Json })
            command.Options.Add(option);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var folder = result.GetValue(run)!;
            var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
            if (!File.Exists(checkpoint)) throw new UserInputException($"--run {folder}: no {Trainer.CheckpointFileName} there (is it a `lm train` output folder?)");
            var metadata = RunMetadata.Parse(Checkpoint.ReadMetadata(checkpoint), checkpoint);
            var config = metadata.Config;
            // Unless told otherwise, score the windows and attack draw the run's own summary was computed on.
            var baseline = metadata.Evaluation?.ApplyTo(new LmRunOptions()) ?? new LmRunOptions { BatchSize = 16 };
            var batchSize = result.GetValue(batch) ?? baseline.BatchSize;
            if (batchSize < 1) throw new UserInputException($"--batch-size must be at least 1 (got {batchSize})");
            var options = shared.Read(result, baseline with { SeqLen = config.SeqLen }) with { SeqLen = config.SeqLen, BatchSize = batchSize };
            var dataset = LmDataset.Load(result.GetValue(data) ?? metadata.Data, metadata.Tokenizer, metadata.DataSeed);
            using var model = new TransformerLm(config);
            var best = Path.Combine(folder, Trainer.BestModelFileName);
            if (File.Exists(best))
            {
                try
                {
                    model.load(best);
                }
                catch (Exception e) when (e is not UserInputException)
                {
                    throw new UserInputException($"{best} is corrupt or does not fit the run's model: {e.Message}");
                }
            }
            else
            {
                Checkpoint.Load(checkpoint, model);
            }
            var sets = EvaluationSets.Build(dataset, options);
            var evaluation = LmEvaluation.Evaluate(model, sets, options.BatchSize, options.Stride);
            if (result.GetValue(shared.Json))
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
            Output.Table($"lm eval: {folder} ({config.Stack.Attention.ToString().ToLowerInvariant()}) on {dataset.Corpus.Name}", header, rows);
            return 0;
        }));
        return command;
    }
}
