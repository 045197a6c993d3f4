using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// Softmax over the expert axis of router logits [N,E] (or [N,k]). libtorch's CPU softmax over a short last dimension
/// runs row by row and costs 5–10× the same softmax taken along dim 0 of the transpose, which vectorises across the
/// N tokens (measured on [2048,8]: 260 µs against 30 µs forward). Same function, values equal to rounding.
/// </summary>
internal static class ExpertSoftmax
{
    /// <param name="logits">[N,E]; any other rank takes the plain softmax over the last dimension.</param>
    public static Tensor OverLastDim(Tensor logits) => logits.dim() == 2 ? logits.t().softmax(0).t() : logits.softmax(-1);
}
