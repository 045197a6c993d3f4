using static TorchSharp.torch;

namespace StatFormer.Tests.Training;

internal static class TensorAssert
{
    /// <summary>Same shape and bitwise-equal values (no tolerance).</summary>
    public static bool SameTensor(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
