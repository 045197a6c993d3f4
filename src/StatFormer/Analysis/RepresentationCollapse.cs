using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Analysis;

/// <summary>
/// Representation collapse as measured by the Elliptical Attention authors: per layer, the mean
/// cosine similarity over all token pairs i ≠ j of that layer's output, averaged over sequences.
/// 1 means every token has the same direction (full collapse).
/// </summary>
public static class RepresentationCollapse
{
    /// <param name="hidden">[B,T,C] one layer's token representations.</param>
    public static double MeanPairwiseCosine(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var t = hidden.shape[1];
        if (t < 2) throw new ArgumentException("need at least two tokens per sequence");
        var unit = nn.functional.normalize(hidden.to_type(ScalarType.Float64), p: 2, dim: -1);
        var gram = unit.matmul(unit.transpose(1, 2));                                   // [B,T,T]
        // Sum over off-diagonal pairs = total − diagonal (each diagonal entry is 1).
        var offDiagonal = gram.sum(new long[] { 1, 2 }) - t;
        return (offDiagonal / (t * (t - 1))).mean().item<double>();
    }
}
