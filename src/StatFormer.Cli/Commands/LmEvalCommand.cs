using System.CommandLine;
using StatFormer.Interop;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using StatFormer.Options;
using TorchSharp;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer lm eval`: clean and attacked perplexity of a trained run, of exported weights, or of a Hugging Face GPT-2 checkpoint.</summary>
public static class LmEvalCommand
{
    /// <summary>The run-tree flags `lm eval` takes: evaluation, attack, batch size, the attention (it adds no parameters) and the GPT-2 checkpoint with its context.</summary>
    private static readonly HashSet<string> ModelFlags =
        ["Model.Stack.Attention", "Model.Stack.Estimator", "Model.Stack.EllipticalLayers", "Model.Stack.EllipticalUnscaled", "Model.SeqLen", "Init.HfCheckpoint", "Data.BatchSize"];

    public static Command Build()
    {
        var command = new Command("eval", "Evaluate a trained run (its best weights, or --weights), or a Hugging Face GPT-2 checkpoint (--hf-checkpoint, with --data), on clean and word-swap-attacked test text.");
        var run = new Option<string?>("--run") { Description = "The run folder written by `lm train` (holds checkpoint.bin and best_model.bin)." };
        var data = new Option<string?>("--data") { Description = "Evaluate on this data instead of the run's own (same tokenizer); required with --hf-checkpoint." };
        var weights = new Option<string?>("--weights") { Description = "Evaluate these weights (safetensors or torch.save state dict, e.g. from `statformer export`): with --run instead of the run's best (names and shapes must fit the run's model); without, in the model and tokenizer of the config.json beside the file (with --data)." };
        var tree = new OptionTree<LmRunOptions>(OptionFlags.Lm.Where(f => f.Path.StartsWith("Eval.", StringComparison.Ordinal) && f.Path != "Eval.ValidTokens"
            || f.Path.StartsWith("Attack.", StringComparison.Ordinal) || ModelFlags.Contains(f.Path)), new LmRunOptions());
        command.Options.Add(run);
        command.Options.Add(data);
        command.Options.Add(weights);
        tree.AddTo(command, withConfig: false);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var folder = result.GetValue(run);
            var hfFolder = tree.Read(result, new LmRunOptions()).Init.HfCheckpoint;
            var weightsFile = result.GetValue(weights);
            if (folder is not null && hfFolder is not null) throw new ArgumentException("give either --run or --hf-checkpoint, not both", "--run");
            if (folder is null && hfFolder is null && weightsFile is null) throw new ArgumentException("give --run, --hf-checkpoint or --weights", "--run");
            string Corpus(string what) => result.GetValue(data) ?? throw new ArgumentException($"{what} needs --data (the text to evaluate)", "--data");
            var (options, model, tokenizer, source, corpus, dataSeed) = folder is not null ? FromRun(result, tree, folder, weightsFile)
                : hfFolder is not null ? FromHf(result, tree, hfFolder, Corpus("--hf-checkpoint"), weightsFile)
                : FromExport(result, tree, weightsFile!, Corpus("--weights without --run"));
            using (model)
            {
                model.to(device);
                var dataset = LmDataset.Load(result.GetValue(data) ?? corpus, tokenizer, dataSeed);
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
                Output.Table($"lm eval: {source} ({EnumNames.Cli(model.Config.Stack.Attention)}) on {dataset.Corpus.Name}", header, rows);
                if (LmTrainCommand.BitsLine(evaluation.TestBitsPerCharacter, evaluation.TestBitsPerByte) is { } bits) Output.Line(bits);
                return 0;
            }
        }));
        return command;
    }

    private static (LmRunOptions Options, TransformerLm Model, ITokenizer Tokenizer, string Source, string Corpus, int DataSeed) FromRun(
        ParseResult result, OptionTree<LmRunOptions> tree, string folder, string? weightsFile)
    {
        using var trained = TrainedLmRun.Load(folder);
        var metadata = trained.Metadata;
        var config = metadata.Config;
        // Unless told otherwise, score the windows and attack draw the run's own summary was computed on.
        var baseline = metadata.Evaluation?.ApplyTo(new LmRunOptions()) ?? new LmRunOptions();
        var options = tree.Read(result, baseline with { Model = config });
        options.Validate();
        OptionCheck.Require(options.Model.SeqLen == config.SeqLen, "Model.SeqLen", $"applies with --hf-checkpoint only (the run's model has {config.SeqLen} positions)");
        // A different attention over the same parameters (elliptical adds none): rebuild and copy the weights across.
        var model = new TransformerLm(options.Model with { VocabSize = config.VocabSize });
        try
        {
            ModelWeights.Load(model, trained.Model.state_dict(), folder);
            if (weightsFile is not null) ModelWeights.Load(model, weightsFile);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (options, model, trained.Tokenizer, weightsFile ?? folder, metadata.Data, metadata.DataSeed);
    }

    /// <summary>An exported state dict with the config.json `statformer export` wrote beside it (the model tree and the tokenizer).</summary>
    private static (LmRunOptions Options, TransformerLm Model, ITokenizer Tokenizer, string Source, string Corpus, int DataSeed) FromExport(
        ParseResult result, OptionTree<LmRunOptions> tree, string weightsFile, string corpus)
    {
        var (config, tokenizer) = RunExport.ReadLmConfig(weightsFile);
        var options = tree.Read(result, new LmRunOptions() with { Model = config });
        options.Validate();
        OptionCheck.Require(options.Model.SeqLen == config.SeqLen, "Model.SeqLen", $"applies with --hf-checkpoint only (the exported model has {config.SeqLen} positions)");
        var model = new TransformerLm(options.Model with { VocabSize = config.VocabSize });
        try
        {
            ModelWeights.Load(model, weightsFile);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (options, model, tokenizer, weightsFile, corpus, 0);
    }

    private static (LmRunOptions Options, TransformerLm Model, ITokenizer Tokenizer, string Source, string Corpus, int DataSeed) FromHf(
        ParseResult result, OptionTree<LmRunOptions> tree, string hfFolder, string corpus, string? weightsFile)
    {
        if (weightsFile is not null) throw new ArgumentException("applies with --run only", "--weights");
        var options = tree.Read(result, new LmRunOptions() with { Data = new LmDataOptions { Tokenizer = "gpt2" } });
        options.Validate();
        var checkpoint = HfGpt2Checkpoint.Open(hfFolder);
        var tokenizer = new Gpt2Tokenizer();
        checkpoint.RequireVocabulary(tokenizer.VocabSize);
        var model = new TransformerLm(LmExperiment.HfConfig(checkpoint, options));
        try
        {
            checkpoint.LoadInto(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (options, model, tokenizer, hfFolder, corpus, 0);
    }
}
