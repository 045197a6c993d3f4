using System.CommandLine;
using System.Globalization;
using StatFormer.Benchmarks;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer bench fair`: forward+backward time of the fair contrastive losses against batch size.</summary>
public static class BenchFairCommand
{
    public static Command Build()
    {
        var command = new Command("fair", "Forward+backward milliseconds of CCLK, FARE, SparseFARE (dense mask) and SparseFARE (sort-and-chunk) against batch size (P=128, d_z=3); fitted growth exponents and FARE/SparseFARE at the largest batch.");
        var batches = new Option<string?>("--batches") { Description = "Comma-separated batch sizes (default: 256,512,1024,2048,4096)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats per measurement (median; best of 3 interleaved rounds).", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print JSON on stdout." };
        command.Options.Add(batches);
        command.Options.Add(repeats);
        command.Options.Add(json);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var list = ParseBatches(result.GetValue(batches));
            var repeatCount = result.GetValue(repeats);
            if (repeatCount < 1) throw new ArgumentException($"must be at least 1 (got {repeatCount})", "--repeats");
            var measured = FairLossBenchmark.Measure(list, repeats: repeatCount, device: device);
            if (result.GetValue(json))
            {
                Output.Json(measured);
                return 0;
            }
            var header = new List<string> { "batch" };
            header.AddRange(measured.Methods.Select(m => m.Method));
            var rows = list.Distinct().Select(b => (IReadOnlyList<string>)new[] { b.ToString(CultureInfo.InvariantCulture) }
                .Concat(measured.Methods.Select(m => Ms(m.Timings.First(t => t.Batch == b).Ms))).ToArray()).ToList();
            rows.Add(new[] { "exponent" }.Concat(measured.Methods.Select(m => m.Exponent.ToString("F2", CultureInfo.InvariantCulture))).ToArray());
            rows.Add(new[] { "algorithm" }.Concat(measured.Methods.Select(m =>
                $"{m.AlgorithmExponent.ToString("F2", CultureInfo.InvariantCulture)} ({m.Complexity})")).ToArray());
            Output.Table($"bench fair (loss forward+backward ms, P={measured.ProjectionDim}, d_z={measured.SensitiveDim}, {measured.Threads} threads)", header, rows);
            Output.Line("exponent: slope of log ms against log batch; algorithm: the same fit to the method's leading cost term (the limit the exponent approaches as batches grow)");
            Output.Line($"FARE / SparseFARE sort-and-chunk at batch {measured.RatioBatch}: {measured.RatioFareSparseFareAt4096.ToString("F2", CultureInfo.InvariantCulture)}×");
            return 0;
        }));
        return command;
    }

    private static string Ms(double ms) => ms.ToString("F2", CultureInfo.InvariantCulture);

    internal static IReadOnlyList<int> ParseBatches(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return FairLossBenchmark.DefaultBatches;
        var batches = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b < 1)
                throw new ArgumentException($"'{part}' is not a positive integer", "--batches");
            batches.Add(b);
        }
        if (batches.Count == 0) throw new ArgumentException($"no batch sizes in '{text}'", "--batches");
        return batches;
    }
}
