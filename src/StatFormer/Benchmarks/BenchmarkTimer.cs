using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>What the benchmarks measure a call by.</summary>
public enum BenchmarkClock
{
    /// <summary>Elapsed wall-clock time (the default): what a user waits, but on a shared machine it includes every
    /// moment another process held the CPU.</summary>
    Wall,

    /// <summary>CPU time of this process (all its threads): insensitive to other processes' time slices, so figures
    /// measured on a busy shared machine stay comparable. Use it with one intra-op thread (<c>OMP_NUM_THREADS=1</c>):
    /// with more, it also counts the time idle OpenMP workers spin.</summary>
    Cpu,
}

/// <summary>
/// The timing harness shared by the benchmarks: a few warm-up calls (libtorch allocates and picks
/// kernels on the first ones), then the median of several timed calls, which is robust to the
/// occasional scheduler hiccup on a small shared machine. On a GPU, kernels run asynchronously: every call is followed by
/// a synchronisation of that device, so a time is the work's, not the launch's.
/// </summary>
public static class BenchmarkTimer
{
    /// <summary>The clock every benchmark times with (process-wide; the CLI's <c>--clock</c>).</summary>
    public static BenchmarkClock Clock { get; set; } = BenchmarkClock.Wall;

    /// <summary>The current reading of <see cref="Clock"/>, in milliseconds from an arbitrary origin.</summary>
    public static double NowMilliseconds() => Clock == BenchmarkClock.Cpu
        ? ProcessCpuMilliseconds()
        : Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;

    /// <param name="device">Where the timed work runs (default: the CPU, which needs no synchronisation).</param>
    public static double MedianMilliseconds(Action action, int warmup, int repeats, Device? device = null)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), "need at least one timed repeat");
        void Run()
        {
            action();
            Synchronize(device);
        }
        for (var i = 0; i < warmup; i++) Run();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var start = NowMilliseconds();
            Run();
            times[i] = NowMilliseconds() - start;
        }
        return Median(times);
    }

    /// <summary>Median of <paramref name="values"/> (sorted in place).</summary>
    public static double Median(double[] values)
    {
        if (values.Length == 0) throw new ArgumentException("no values", nameof(values));
        Array.Sort(values);
        var n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }

    /// <summary>
    /// Median over <paramref name="pairs"/> back-to-back pairs of calls of time(numerator) / time(denominator), the order
    /// alternating: drift in machine load, which moves whole medians by ±20 % from minute to minute on a small shared VM,
    /// hits both calls of a pair alike and cancels in the ratio.
    /// </summary>
    public static double PairedRatio(Action numerator, Action denominator, int pairs, Device? device = null)
    {
        if (pairs < 1) throw new ArgumentOutOfRangeException(nameof(pairs), "need at least one pair");
        var ratios = new double[pairs];
        for (var i = 0; i < pairs; i++)
        {
            var numeratorFirst = i % 2 == 0;
            var firstMs = Time(numeratorFirst ? numerator : denominator, device);
            var secondMs = Time(numeratorFirst ? denominator : numerator, device);
            ratios[i] = numeratorFirst ? firstMs / secondMs : secondMs / firstMs;
        }
        return Median(ratios);
    }

    private static double Time(Action action, Device? device)
    {
        var start = NowMilliseconds();
        action();
        Synchronize(device);
        return NowMilliseconds() - start;
    }

    private static double ProcessCpuMilliseconds()
    {
        if (OperatingSystem.IsLinux() && clock_gettime(ProcessCpuTimeId, out var spec) == 0)
            return spec.Seconds * 1000.0 + spec.Nanoseconds / 1e6;
        return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
    }

    private const int ProcessCpuTimeId = 2;   // CLOCK_PROCESS_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clockId, out TimeSpec spec);

    /// <summary>Waits for the queued work of a CUDA <paramref name="device"/>; nothing for the CPU.</summary>
    public static void Synchronize(Device? device)
    {
        if (device is { type: DeviceType.CUDA }) torch.cuda.synchronize(device);
    }
}
