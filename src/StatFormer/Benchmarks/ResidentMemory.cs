using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StatFormer.Benchmarks;

/// <summary>
/// The process's resident memory (RSS: every page in RAM — managed heap, libtorch's tensors and allocator caches,
/// loaded code), from /proc/self/status on Linux and <see cref="Process"/> elsewhere.
/// </summary>
public static class ResidentMemory
{
    /// <summary>
    /// Resets the peak to the current RSS (Linux: "5" into /proc/self/clear_refs), after handing freed heap pages back
    /// (glibc's malloc_trim), which would otherwise stay resident and hide what the next steps allocate. False where
    /// the reset is not possible; <see cref="PeakBytes"/> is then the peak since the process started.
    /// </summary>
    public static bool TryResetPeak()
    {
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: the peak still resets, freed pages may stay counted.
        }
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

    [DllImport("libc.so.6")]
    private static extern int malloc_trim(nuint pad);

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
