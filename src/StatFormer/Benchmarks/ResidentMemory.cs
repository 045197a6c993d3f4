using System.Diagnostics;

namespace StatFormer.Benchmarks;

/// <summary>
/// The process's resident memory (RSS: every page in RAM — managed heap, libtorch's tensors and allocator caches,
/// loaded code), from /proc/self/status on Linux and <see cref="Process"/> elsewhere.
/// </summary>
public static class ResidentMemory
{
    /// <summary>
    /// Resets the peak to the current RSS (Linux: "5" into /proc/self/clear_refs). False where that is not possible;
    /// <see cref="PeakBytes"/> is then the peak since the process started.
    /// </summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Peak RSS since the last successful <see cref="TryResetPeak"/> (VmHWM).</summary>
    public static long PeakBytes() => StatusKilobytes("VmHWM:") * 1024 ?? Refreshed().PeakWorkingSet64;

    /// <summary>Current RSS (VmRSS).</summary>
    public static long CurrentBytes() => StatusKilobytes("VmRSS:") * 1024 ?? Refreshed().WorkingSet64;

    private static Process Refreshed()
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        return process;
    }

    private static long? StatusKilobytes(string field)
    {
        if (!File.Exists("/proc/self/status")) return null;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
