using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Data;

/// <summary>
/// Tensors from host arrays in libtorch's own memory. <c>torch.tensor(array)</c> on the CPU keeps the data in a pinned .NET
/// array, which the GC places at any 8-byte boundary, and libtorch's CPU GEMMs round differently depending on their inputs'
/// alignment: a model fed such tensors gave different last bits from run to run with the same seed (the AC probe's
/// XMoE runs drifted apart by 1e-6 in 300 steps, enough to flip AC-XMoE's routing). libtorch allocates 64-byte aligned.
/// </summary>
public static class HostTensor
{
    /// <summary><paramref name="values"/> as a float32 tensor of <paramref name="shape"/> (default: 1-D) on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor From(float[] values, long[]? shape = null, Device? device = null) =>
        Owned(torch.tensor(values, shape ?? new long[] { values.Length }, device: CPU), device);

    /// <summary><paramref name="values"/> as a float64 tensor of <paramref name="shape"/> (default: 1-D) on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor From(double[] values, long[]? shape = null, Device? device = null) =>
        Owned(torch.tensor(values, shape ?? new long[] { values.Length }, device: CPU), device);

    private static Tensor Owned(Tensor wrapped, Device? device)
    {
        using (wrapped)
            return (device ?? CPU).type == DeviceType.CPU ? wrapped.clone() : wrapped.to(device!);
    }
}
