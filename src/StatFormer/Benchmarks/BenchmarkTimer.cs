using System.Diagnostics;

namespace StatFormer.Benchmarks;

/// <summary>
/// The timing harness shared by the benchmarks: a few warm-up calls (libtorch allocates and picks
/// kernels on the first ones), then the median of several timed calls, which is robust to the
/// occasional scheduler hiccup on a small shared machine.
/// </summary>
public static class BenchmarkTimer
{
    public static double MedianMilliseconds(Action action, int warmup, int repeats)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), "need at least one timed repeat");
        for (var i = 0; i < warmup; i++) action();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    }
}
