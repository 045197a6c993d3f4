using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Data;

/// <summary>
/// SCARF-style corruption for tabular views (Bahri et al. 2022): each entry of a row is, independently with
/// probability <c>rate</c>, replaced by the same feature of another row of the batch chosen uniformly (so a replaced
/// value is always a real value of that feature, drawn from the batch's empirical marginal). The protected attribute
/// is not an input, so it is never altered. Randomness: the <c>generator</c> argument when given, else the global torch RNG.
/// </summary>
public static class TabularAugmentation
{
    /// <param name="x">float [b,F].</param>
    /// <param name="rate">Probability that an entry is replaced, in [0,1].</param>
    /// <returns>A new [b,F] tensor. A batch of one row has no other row to draw from and is returned unchanged (as a copy).</returns>
    public static Tensor Corrupt(Tensor x, double rate = 0.3, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2) throw new ArgumentException($"x must be [b,F], got [{string.Join(",", x.shape)}]", nameof(x));
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentException($"rate must be in [0,1], got {rate}", nameof(rate));
        var (b, f) = (x.shape[0], x.shape[1]);
        if (b < 2) return x.clone();

        using var scope = torch.NewDisposeScope();
        // Draws happen on the CPU (where the generator lives) and move to x's device.
        var replace = (torch.rand([b, f], dtype: ScalarType.Float64, device: CPU, generator: generator) < rate).to(x.device);
        // Row i draws from row (i + s) mod b with s uniform on 1..b−1: a uniformly chosen other row.
        var shift = torch.randint(1, b, [b, f], dtype: ScalarType.Int64, device: CPU, generator: generator);
        var donor = (torch.arange(b, dtype: ScalarType.Int64, device: CPU).unsqueeze(1) + shift).remainder(b).to(x.device);
        return torch.where(replace, x.gather(0, donor), x).MoveToOuterDisposeScope();
    }

    /// <summary>Two independently corrupted views of the same batch.</summary>
    public static (Tensor View1, Tensor View2) TwoViews(Tensor x, double rate = 0.3, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        var view1 = Corrupt(x, rate, generator);
        var view2 = Corrupt(x, rate, generator);
        return (view1.MoveToOuterDisposeScope(), view2.MoveToOuterDisposeScope());
    }
}
