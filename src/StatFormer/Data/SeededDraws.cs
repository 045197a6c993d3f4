using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Data;

/// <summary>
/// Random tensors from a seeded CPU <see cref="Generator"/>, delivered on any device: drawn on the CPU, then moved.
/// libtorch refuses a CPU generator for a GPU draw, and drawing on the CPU keeps the numbers the same on every
/// device, so a seed gives the same attack or sampling on a CPU and a GPU run.
/// </summary>
public static class SeededDraws
{
    /// <summary>U[0, 1) of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Rand(long[] shape, Generator generator, ScalarType dtype, Device device) =>
        OnDevice(torch.rand(shape, dtype: dtype, device: CPU, generator: generator), device);

    /// <summary>N(0, 1) of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Randn(long[] shape, Generator generator, ScalarType dtype, Device device) =>
        OnDevice(torch.randn(shape, dtype: dtype, device: CPU, generator: generator), device);

    /// <summary>Integers uniform in [<paramref name="low"/>, <paramref name="high"/>) of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Randint(long low, long high, long[] shape, Generator generator, ScalarType dtype, Device device) =>
        OnDevice(torch.randint(low, high, shape, dtype: dtype, device: CPU, generator: generator), device);

    private static Tensor OnDevice(Tensor drawn, Device device)
    {
        if (drawn.device == device) return drawn;
        using (drawn) return drawn.to(device);
    }
}
