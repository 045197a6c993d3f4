using System.CommandLine;
using System.Globalization;
using StatFormer.Attention;
using StatFormer.Benchmarks;
using StatFormer.Language.Models;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer bench lm`: training throughput and model-FLOPs utilisation against a GEMM measured in the same run.</summary>
public static class BenchLmCommand
{
    public static Command Build()
    {
        var command = new Command("lm", "LM training-step throughput (tokens/s) for softmax and elliptical, and MFU against a 1024³ GEMM measured in the same run.");
        var dModel = new Option<int>("--d-model") { DefaultValueFactory = _ => 256 };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 4 };
        var heads = new Option<int>("--heads") { DefaultValueFactory = _ => 4 };
        var seqLen = new Option<int>("--seq-len") { DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16 };
        var vocab = new Option<int>("--vocab") { DefaultValueFactory = _ => 8192 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (median).", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON on stdout." };
        foreach (var option in new Option[] { dModel, layers, heads, seqLen, batch, vocab, steps, json }) command.Options.Add(option);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var results = new[] { AttentionKind.Softmax, AttentionKind.Elliptical }.Select(attention =>
            {
                var config = new LmConfig
                {
                    VocabSize = result.GetValue(vocab), SeqLen = result.GetValue(seqLen),
                    Stack = new() { Layers = result.GetValue(layers), DModel = result.GetValue(dModel), Heads = result.GetValue(heads), Dropout = 0.0, Attention = attention },
                };
                StatFormer.Options.OptionCheck.Nested("Model", config.Validate);
                return LmThroughputBenchmark.Measure(config, result.GetValue(batch), steps: Math.Max(1, result.GetValue(steps)), device: device);
            }).ToList();
            if (result.GetValue(json))
            {
                Output.Json(results.Select(r => new
                {
                    r.Attention, r.DModel, r.Layers, r.Heads, r.SeqLen, r.BatchSize, r.VocabSize, r.Parameters, r.StepMs, r.TokensPerSecond,
                    r.ModelGflopPerSecond, r.GemmGflopPerSecond, Mfu = r.ModelFlopsUtilisation,
                }).ToList());
                return 0;
            }
            Output.Table("bench lm (training step: forward, backward, AdamW)",
                new[] { "attention", "params", "step ms", "tokens/s", "model GFLOP/s", "GEMM GFLOP/s", "MFU" },
                results.Select(r => (IReadOnlyList<string>)new[]
                {
                    r.Attention, r.Parameters.ToString("N0", CultureInfo.InvariantCulture), r.StepMs.ToString("F1", CultureInfo.InvariantCulture),
                    r.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture), r.ModelGflopPerSecond.ToString("F1", CultureInfo.InvariantCulture),
                    r.GemmGflopPerSecond.ToString("F1", CultureInfo.InvariantCulture), r.ModelFlopsUtilisation.ToString("P1", CultureInfo.InvariantCulture),
                }));
            return 0;
        }));
        return command;
    }
}
