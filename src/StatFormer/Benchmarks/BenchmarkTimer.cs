using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>
/// The timing harness shared by the benchmarks: a few warm-up calls (libtorch allocates and picks
/// kernels on the first ones), then the median of several timed calls, which is robust to the
/// occasional scheduler hiccup on a small shared machine. On a GPU, kernels run asynchronously: every call is followed by
/// a synchronisation of that device, so a time is the work's, not the launch's.
/// </summary>
public static class BenchmarkTimer
{
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
            var watch = Stopwatch.StartNew();
            Run();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    }

    /// <summary>Waits for the queued work of a CUDA <paramref name="device"/>; nothing for the CPU.</summary>
    public static void Synchronize(Device? device)
    {
        if (device is { type: DeviceType.CUDA }) torch.cuda.synchronize(device);
    }
}
