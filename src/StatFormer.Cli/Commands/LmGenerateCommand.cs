using System.CommandLine;
using System.Text.RegularExpressions;
using StatFormer.Language.Experiments;
using StatFormer.Language.Generation;
using TorchSharp;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer lm generate`: sample text from a trained run, streamed to stdout as it is produced.</summary>
public static class LmGenerateCommand
{
    public static Command Build()
    {
        var command = new Command("generate",
            "Generate text from a trained run (its best weights), streaming it to stdout as tokens are produced (notes on stderr). The prompt's " +
            "last --seq-len tokens (the run's context) condition the first token; beyond the context the window slides by one token. " +
            "--json prints every sample with per-token ids, text pieces and log-probabilities: `log_prob` under the distribution actually " +
            "sampled from (after --temperature, --top-k, --top-p, renormalised; 0 when greedy) and `model_log_prob` under the model's own softmax.");
        var run = new Option<string>("--run") { Description = "The run folder written by `lm train` (holds checkpoint.bin and best_model.bin).", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = Flag("Prompt").Description };
        var stop = new Option<string[]>("--stop") { Description = Flag("Stop").Description, DefaultValueFactory = _ => [] };
        var defaults = new GenerationOptions();
        var tree = new OptionTree<GenerationOptions>(OptionFlags.Generate.Where(f => f.Path is not ("Prompt" or "Stop")), defaults);
        command.Options.Add(run);
        command.Options.Add(prompt);
        tree.AddTo(command, withConfig: false);
        command.Options.Add(stop);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        json.Description = "Print the samples as JSON on stdout (prompt, text, finish reason, decoder; per token id, piece, log_prob, model_log_prob) instead of streaming the text.";
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var options = tree.Read(result, defaults) with { Stop = result.GetValue(stop)!.Select(Unescape).ToList() };
            options.Validate();
            var device = DeviceFlag.Read(result, deviceFlag);
            using var trained = TrainedLmRun.Load(result.GetValue(run)!);
            trained.Model.to(device);
            var text = ReadPrompt(result.GetValue(prompt));
            var generator = new TextGenerator(trained.Model, trained.Tokenizer);
            var tokens = generator.EncodePrompt(text);
            var seqLen = trained.Model.Config.SeqLen;
            if (tokens.DroppedTokens > 0)
                Console.Error.WriteLine($"note: the prompt has {tokens.Ids.Length + tokens.DroppedTokens} tokens, more than the model's context (--seq-len {seqLen}); kept its last {seqLen}");
            var toStdout = !result.GetValue(json);
            var stream = new SampleStream(toStdout ? Console.Out : TextWriter.Null, text, options.NumSamples);
            var samples = generator.Generate(text, options, stream.Write);
            stream.End();
            Console.Error.WriteLine($"{samples.Sum(s => s.Tokens.Count)} tokens in {samples.Count} sample(s), {samples[0].Decoder} decoding" +
                (samples.Max(x => x.Tokens.Count) + tokens.Ids.Length > seqLen + 1 ? $"; beyond the context of {seqLen} tokens the window slid" : ""));
            if (!toStdout)
                Output.Json(samples.Select(s => new
                {
                    Prompt = text, PromptTokens = tokens.Ids, PromptTokensDropped = tokens.DroppedTokens, s.Text, s.FinishReason, s.Decoder,
                    Tokens = s.Tokens.Select(t => new { t.Id, t.Piece, t.LogProb, t.ModelLogProb }).ToList(),
                }).ToList());
            return 0;
        }));
        return command;
    }

    /// <summary>Writes each sample as it is produced: a note on stderr when there are several, then the prompt and the new text, ending on a newline.</summary>
    private sealed class SampleStream(TextWriter output, string prompt, int samples)
    {
        private int current = -1;
        private bool atLineStart = true;

        public void Write(int sample, GeneratedToken token)
        {
            if (sample != current)
            {
                End();
                current = sample;
                if (samples > 1) Console.Error.WriteLine($"sample {sample + 1}/{samples}");
                Put(prompt);
            }
            Put(token.Text);
        }

        public void End()
        {
            if (current >= 0 && !atLineStart) Put("\n");
        }

        private void Put(string text)
        {
            if (text.Length == 0) return;
            output.Write(text);
            output.Flush();
            atLineStart = text.EndsWith('\n');
        }
    }

    private static OptionFlag Flag(string path) => OptionFlags.Generate.Single(f => f.Path == path);

    /// <summary>--prompt, or standard input (less one final line break) when it is absent or '-'.</summary>
    private static string ReadPrompt(string? prompt)
    {
        if (prompt is not null and not "-") return prompt;
        if (!Console.IsInputRedirected) Console.Error.WriteLine("reading the prompt from standard input (end it with Ctrl+D) …");
        // `echo TEXT |` adds a newline nobody means to prompt with (a word model would start a new line after it).
        var text = Console.In.ReadToEnd();
        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
    }

    /// <exception cref="ArgumentException">A malformed escape; ParamName "Stop" (named as --stop).</exception>
    private static string Unescape(string stop)
    {
        try
        {
            return Regex.Unescape(stop);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{stop}' has a malformed escape ({e.Message})", "Stop", e);
        }
    }
}
