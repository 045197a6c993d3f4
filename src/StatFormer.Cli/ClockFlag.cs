using System.CommandLine;
using StatFormer.Benchmarks;
using StatFormer.Options;

namespace StatFormer.Cli;

/// <summary>The --clock switch of the timing benchmarks: wall-clock (default) or process CPU time.</summary>
public static class ClockFlag
{
    public static Option<string> Add(Command command)
    {
        var clock = new Option<string>("--clock")
        {
            Description = "What to time with: wall (elapsed time) or cpu (this process's CPU time, unaffected by other processes on a shared machine; use with OMP_NUM_THREADS=1).",
            DefaultValueFactory = _ => EnumNames.Cli(BenchmarkClock.Wall),
        };
        clock.AcceptOnlyFromAmong([.. EnumNames.CliNames<BenchmarkClock>()]);
        command.Options.Add(clock);
        return clock;
    }

    /// <summary>Sets <see cref="BenchmarkTimer.Clock"/> from the parsed flag and returns it.</summary>
    public static BenchmarkClock Apply(ParseResult result, Option<string> clock)
    {
        var value = EnumNames.Parse<BenchmarkClock>(result.GetValue(clock)!, "--clock");
        BenchmarkTimer.Clock = value;
        return value;
    }

    /// <summary>The clock and thread count for a table title, e.g. "cpu clock, 1 thread".</summary>
    public static string Describe(BenchmarkClock clock)
    {
        var threads = TorchSharp.torch.get_num_threads();
        return $"{EnumNames.Cli(clock)} clock, {threads} thread{(threads == 1 ? "" : "s")}";
    }

    /// <summary>A warning line when CPU time is read with several intra-op threads (idle OpenMP workers spin and count).</summary>
    public static string? Warning(BenchmarkClock clock) =>
        clock == BenchmarkClock.Cpu && TorchSharp.torch.get_num_threads() > 1
            ? "note: --clock cpu with several intra-op threads also counts idle OpenMP workers spinning; set OMP_NUM_THREADS=1 for CPU-time figures"
            : null;
}
