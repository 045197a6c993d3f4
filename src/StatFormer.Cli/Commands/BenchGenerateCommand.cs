using System.CommandLine;
using System.Globalization;
using StatFormer.Benchmarks;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer bench generate`: decoding speed with and without the key/value cache, softmax and elliptical.</summary>
public static class BenchGenerateCommand
{
    public static Command Build()
    {
        var command = new Command("generate", "Greedy decoding speed (new tokens/s) after a random prompt on a small random model, softmax and elliptical, " +
            "with a full forward over the window per token and with the key/value cache where available; the cache speed-up and the elliptical/softmax time ratio.");
        var defaults = new GenerationBenchmarkOptions();
        var tree = new OptionTree<GenerationBenchmarkOptions>(OptionFlags.BenchGenerate, defaults);
        tree.AddTo(command, withConfig: false);
        var json = JsonFlag.Add(command);
        var clock = ClockFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var options = tree.Read(result, defaults);
            var clockValue = ClockFlag.Apply(result, clock);
            var measured = GenerationBenchmark.Measure(options, device);
            if (result.GetValue(json))
            {
                Output.Json(measured);
                return 0;
            }
            static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
            Output.Table($"bench generate ({measured.PromptTokens} prompt + {measured.NewTokens} new tokens, {measured.Layers}×{measured.DModel}, {measured.Heads} heads, vocab {measured.Vocab}, {ClockFlag.Describe(clockValue)})",
                new[] { "attention", "decoder", "ms per generation", "new tokens/s" },
                measured.Rows.Select(r => (IReadOnlyList<string>)new[] { r.Attention, r.Decoder, F(r.GenerationMs, "F1"), F(r.TokensPerSecond, "F0") }));
            var ratios = measured.CacheSpeedup.Select(kv => $"cache speed-up {kv.Key} ×{F(kv.Value, "F2")}")
                .Concat(measured.EllipticalOverSoftmax.Select(kv => $"elliptical/softmax ({kv.Key}) {F(kv.Value, "F3")}"));
            Output.Line(string.Join("   ", ratios) + (measured.CacheSpeedup.Count == 0 ? "   (no key/value cache in this build)" : ""));
            if (ClockFlag.Warning(clockValue) is { } warning) Output.Line(warning);
            return 0;
        }));
        return command;
    }
}
