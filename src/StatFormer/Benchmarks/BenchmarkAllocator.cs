using System.Runtime.InteropServices;

namespace StatFormer.Benchmarks;

/// <summary>
/// Keeps glibc's malloc from handing freed memory back to the system between steps. libtorch's CPU tensors come from
/// malloc; by default glibc returns large freed blocks to the kernel (munmap, or trimming the heap top), so the next
/// step page-faults the same megabytes back in, zero-filled by the kernel. On a busy shared machine that kernel work
/// made a dense FFN step's median twice its minimum (an MoE step, whose buffers are smaller, far less), so the
/// timing benchmarks call <see cref="RetainFreedMemory"/> first: every variant then runs from a warm heap, as it would
/// with a caching allocator. Resident memory stays at its high-water mark (the peak-RSS figures trim explicitly first).
/// </summary>
public static class BenchmarkAllocator
{
    private const int TrimThreshold = -1;   // M_TRIM_THRESHOLD
    private const int TopPad = -2;          // M_TOP_PAD
    private const int MmapThreshold = -3;   // M_MMAP_THRESHOLD

    private static bool? applied;

    /// <summary>Sets glibc's trim threshold to 1 GiB, its top pad to 64 MiB and its mmap threshold to its maximum (32 MiB),
    /// once per process. True where that took effect (Linux with glibc); false elsewhere, where nothing changes.</summary>
    public static bool RetainFreedMemory()
    {
        if (applied is { } done) return done;
        var ok = false;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                ok = mallopt(MmapThreshold, 32 << 20) == 1 & mallopt(TrimThreshold, 1 << 30) == 1 & mallopt(TopPad, 64 << 20) == 1;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                ok = false;   // not glibc
            }
        }
        applied = ok;
        return ok;
    }

    [DllImport("libc.so.6")]
    private static extern int mallopt(int parameter, int value);
}
