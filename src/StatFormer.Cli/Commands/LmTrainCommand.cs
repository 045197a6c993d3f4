using System.CommandLine;
using System.Globalization;
using StatFormer.Language.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer lm train`: one model, trained, evaluated clean and attacked, written to --out.</summary>
public static class LmTrainCommand
{
    public static Command Build()
    {
        var command = new Command("train", "Train one language model, then evaluate clean and word-swap-attacked perplexity. Writes summary.json, metrics.jsonl, checkpoint.bin and a learning-curve plot to --out.");
        var baseline = new LmRunOptions();
        var tree = new OptionTree<LmRunOptions>(OptionFlags.Lm, baseline);
        tree.AddTo(command);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var options = tree.Read(result, baseline);
            var device = DeviceFlag.Read(result, deviceFlag);
            var view = new TrainingProgressView();
            var (summary, _) = view.Run(progressFor => LmExperiment.Run(options, progressFor($"{new ModelVariant(options.Model.Stack.Attention, options.Model.Stack.Moe.Router).Name} seed {options.Train.Seed}"),
                cancellationToken: cancellationToken, device: device));
            if (result.GetValue(json))
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
            if (BitsLine(summary.TestBitsPerCharacter, summary.TestBitsPerByte) is { } bits) Output.Line(bits);
            Output.Line($"run folder: {Path.GetFullPath(options.Output.OutDir)}");
            return 0;
        }));
        return command;
    }

    /// <summary>"test: 2.012 bits per character, 1.873 bits per byte", or null when neither applies (word tokenizer).</summary>
    internal static string? BitsLine(double? perCharacter, double? perByte) => perCharacter is { } c
        ? string.Create(CultureInfo.InvariantCulture, $"test: {c:F3} bits per character") + (perByte is { } b ? string.Create(CultureInfo.InvariantCulture, $", {b:F3} bits per byte") : "")
        : null;

    internal static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
