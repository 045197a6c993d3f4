using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Data;

internal static class TensorAssert
{
    /// <summary>Same shape and every element equal (TorchSharp's <c>equal</c> is elementwise).</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }
}
