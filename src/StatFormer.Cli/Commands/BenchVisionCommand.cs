using System.CommandLine;
using System.Globalization;
using StatFormer.Benchmarks;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer bench vision`: elliptical vs softmax ViT training step, and attack throughput (clean, PGD-k, SPSA).</summary>
public static class BenchVisionCommand
{
    public static Command Build()
    {
        var command = new Command("vision", "ViT training-step milliseconds, softmax vs elliptical (same weights, same batch; ratio bar ≤ 1.05), AC vs base router in MoE ViTs (ac-smoe / smoe, ac-soft-moe / soft-moe; bar ≤ 1.05), and attack throughput: clean evaluation, PGD-k and SPSA images/s, PGD-k / (k × forward+backward) (bar ≤ 1.1).");
        var defaults = new VisionBenchmarkOptions();
        var tree = new OptionTree<VisionBenchmarkOptions>(OptionFlags.BenchVision, defaults);
        tree.AddTo(command, withConfig: false);
        var json = JsonFlag.Add(command);
        var clock = ClockFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var clockValue = ClockFlag.Apply(result, clock);
            var device = DeviceFlag.Read(result, deviceFlag);
            var options = tree.Read(result, defaults);
            var measured = VisionBenchmark.Measure(options, device);
            if (result.GetValue(json))
            {
                Output.Json(measured);
                return 0;
            }
            var a = measured.Attacks;
            string F(double v, string format = "F2") => v.ToString(format, CultureInfo.InvariantCulture);
            Output.Table($"bench vision (B{measured.Batch}, {measured.ImageSize}×{measured.ImageSize}×3, {measured.Tokens} tokens, {measured.Layers}×{measured.DModel}, {measured.Parameters:N0} params, {ClockFlag.Describe(clockValue)})",
                ["measure", "value"],
                [
                    ["softmax ViT training step (ms)", F(measured.SoftmaxStepMs)],
                    ["elliptical ViT training step (ms)", F(measured.EllipticalStepMs)],
                    ["elliptical / softmax (bar ≤ 1.05)", F(measured.Ratio, "F3")],
                    .. measured.Moe.SelectMany(m => new[]
                    {
                        new[] { $"{m.Base} ViT training step (ms, {m.Experts} experts, MoE in every block)", F(m.BaseStepMs) },
                        [$"{m.Ac} ViT training step (ms)", F(m.AcStepMs)],
                        [$"{m.Ac} / {m.Base} (bar ≤ 1.05)", F(m.Ratio, "F3")],
                    }),
                    ["clean evaluation (images/s)", F(a.CleanImagesPerSecond, "F0")],
                    [$"PGD-{a.PgdSteps} (images/s)", F(a.PgdImagesPerSecond, "F1")],
                    [$"SPSA {a.SpsaIterations}×{a.SpsaSamples} (images/s)", F(a.SpsaImagesPerSecond, "F2")],
                    [$"PGD-{a.PgdSteps} / ({a.PgdSteps} × forward+backward) (bar ≤ 1.1)", F(a.PgdRatio, "F3")],
                ]);
            if (ClockFlag.Warning(clockValue) is { } warning) Output.Line(warning);
            return 0;
        }));
        return command;
    }
}
