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
        var clock = ClockFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var clockValue = ClockFlag.Apply(result, clock);
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
                    r.ModelGflopPerSecond, r.GemmGflopPerSecond, Mfu = r.ModelFlopsUtilisation, r.Breakdown, r.PeakResidentMiB, r.StepMemoryMiB, r.Clock,
                }).ToList());
                return 0;
            }
            Output.Table($"bench lm (training step: forward, backward, AdamW; {ClockFlag.Describe(clockValue)})",
                new[] { "attention", "params", "step ms", "tokens/s", "model GFLOP/s", "GEMM GFLOP/s", "MFU" },
                results.Select(r => (IReadOnlyList<string>)new[]
                {
                    r.Attention, r.Parameters.ToString("N0", CultureInfo.InvariantCulture), r.StepMs.ToString("F1", CultureInfo.InvariantCulture),
                    r.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture), r.ModelGflopPerSecond.ToString("F1", CultureInfo.InvariantCulture),
                    r.GemmGflopPerSecond.ToString("F1", CultureInfo.InvariantCulture), r.ModelFlopsUtilisation.ToString("P1", CultureInfo.InvariantCulture),
                }));
            Output.Line("step ms and GEMM GFLOP/s: best of 3 interleaved rounds (GEMM, steps, GEMM, steps, …); MFU: model FLOP/s over that GEMM rate");
            static string Ms(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
            static string Share(double value, double step) => $"{Ms(value)} ({(value / step).ToString("P0", CultureInfo.InvariantCulture)})";
            Output.Table("where a step goes (ms, share of the step; components timed alone at the step's shapes, other = the rest)",
                new[] { "attention", "embedding", "attention layers", "FFNs", "LayerNorms", "output + loss", "AdamW", "other", "peak RSS MiB", "step MiB" },
                results.Select(r => (IReadOnlyList<string>)new[]
                {
                    r.Attention, Share(r.Breakdown!.Embedding, r.StepMs), Share(r.Breakdown.Attention, r.StepMs), Share(r.Breakdown.FeedForward, r.StepMs),
                    Share(r.Breakdown.LayerNorm, r.StepMs), Share(r.Breakdown.OutputAndLoss, r.StepMs), Share(r.Breakdown.Optimizer, r.StepMs),
                    Share(r.Breakdown.Other, r.StepMs), r.PeakResidentMiB.ToString("F0", CultureInfo.InvariantCulture), r.StepMemoryMiB.ToString("F0", CultureInfo.InvariantCulture),
                }));
            Output.Line("peak RSS: the process's resident memory while that model's steps ran (reset before them); step MiB: its rise over the RSS before the steps (activations, gradients, AdamW state, temporaries)");
            if (ClockFlag.Warning(clockValue) is { } warning) Output.Line(warning);
            return 0;
        }));
        return command;
    }
}
