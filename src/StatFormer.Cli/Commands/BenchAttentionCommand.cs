using System.CommandLine;
using System.Globalization;
using StatFormer.Benchmarks;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer bench attention`: forward+backward time of softmax, elliptical (fused) and elliptical (explicit reference).</summary>
public static class BenchAttentionCommand
{
    public static Command Build()
    {
        var command = new Command("attention", "Forward+backward milliseconds of a causal self-attention layer: softmax (fused SDPA), elliptical (fused), elliptical (explicit diag-matrix reference); ratio elliptical/softmax.");
        var sizes = new Option<string?>("--sizes") { Description = "Semicolon-separated sizes B,H,N,D (default: 8,4,128,32;8,4,256,64;4,8,512,32)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats per measurement (median; best of 3 interleaved rounds).", DefaultValueFactory = _ => 30 };
        var json = new Option<bool>("--json") { Description = "Print JSON on stdout." };
        command.Options.Add(sizes);
        command.Options.Add(repeats);
        command.Options.Add(json);
        var clock = ClockFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var clockValue = ClockFlag.Apply(result, clock);
            var device = DeviceFlag.Read(result, deviceFlag);
            var list = ParseSizes(result.GetValue(sizes));
            var repeatCount = result.GetValue(repeats);
            if (repeatCount < 1) throw new ArgumentException($"must be at least 1 (got {repeatCount})", "--repeats");
            var results = list.Select(s => AttentionBenchmark.Measure(s, repeats: repeatCount, device: device)).ToList();
            if (result.GetValue(json))
            {
                Output.Json(results);
                return 0;
            }
            Output.Table($"bench attention (forward+backward ms, {ClockFlag.Describe(clockValue)})",
                new[] { "size", "softmax", "elliptical", "elliptical explicit", "elliptical/softmax", "paired", "limit", "metric MiB", "elementwise GB/s", "explicit/fused" },
                results.Select(r => (IReadOnlyList<string>)new[]
                {
                    r.Size, Ms(r.SoftmaxMs), Ms(r.EllipticalMs), Ms(r.EllipticalExplicitMs),
                    F3(r.RatioEllipticalSoftmax), F3(r.RatioEllipticalSoftmaxPaired), F3(r.LimitEllipticalSoftmax),
                    (r.MetricExtraBytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture),
                    r.ElementwiseGigabytesPerSecond.ToString("F1", CultureInfo.InvariantCulture), r.RatioExplicitFused.ToString("F2", CultureInfo.InvariantCulture),
                }));
            Output.Line("elliptical/softmax: best medians of 3 interleaved rounds; paired: median over back-to-back step pairs; limit: (softmax + the metric's extra bytes at the same run's element-wise rate) / softmax");
            if (ClockFlag.Warning(clockValue) is { } warning) Output.Line(warning);
            return 0;
        }));
        return command;
    }

    private static string Ms(double ms) => ms.ToString("F2", CultureInfo.InvariantCulture);
    private static string F3(double ratio) => ratio.ToString("F3", CultureInfo.InvariantCulture);

    internal static IReadOnlyList<AttentionBenchmarkSize> ParseSizes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return AttentionBenchmark.DefaultSizes;
        var sizes = new List<AttentionBenchmarkSize>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var numbers = part.Split(',', StringSplitOptions.TrimEntries);
            if (numbers.Length != 4 || !numbers.All(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
                throw new ArgumentException($"'{part}' is not four positive integers B,H,N,D", "--sizes");
            var v = numbers.Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray();
            sizes.Add(new AttentionBenchmarkSize(v[0], v[1], v[2], v[3]));
        }
        return sizes;
    }
}
