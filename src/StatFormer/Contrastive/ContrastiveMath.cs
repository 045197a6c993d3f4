using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// Masked log-sum-exp pieces shared by the losses. Rows whose mask is empty give −∞ (an empty sum), and neither
/// their value nor their gradient is NaN: plain logsumexp over an all −∞ row is −∞ with a NaN gradient.
/// </summary>
internal static class ContrastiveMath
{
    /// <summary>Whether some row of <paramref name="allowed"/> along <paramref name="dim"/> has no true entry (one host sync).</summary>
    public static bool HasEmptyRows(Tensor allowed, long dim) => !allowed.any(dim).all().item<bool>();

    /// <summary>log Σ_{j allowed} exp(x_j) along <paramref name="dim"/>; −∞ (no gradient) where nothing is allowed.</summary>
    public static Tensor MaskedLogSumExp(Tensor x, Tensor allowed, long dim)
    {
        var any = allowed.any(dim, keepdim: true);
        var filled = x.masked_fill(allowed.logical_not(), double.NegativeInfinity).masked_fill(any.logical_not(), 0.0);
        return filled.logsumexp(dim).masked_fill(any.squeeze(dim).logical_not(), double.NegativeInfinity);
    }

    /// <summary>
    /// log Σ_j exp(x_j) of an <paramref name="x"/> that is already −∞ outside <paramref name="allowed"/>: a plain
    /// logsumexp when no row is empty (the −∞ entries get zero gradient), else the guarded form.
    /// </summary>
    public static Tensor LogSumExpOfMasked(Tensor x, Tensor allowed, long dim, bool hasEmptyRows) =>
        hasEmptyRows ? MaskedLogSumExp(x, allowed, dim) : x.logsumexp(dim);

    /// <summary>log softmax of <paramref name="logits"/> over the allowed entries; −∞ elsewhere and on empty rows.</summary>
    public static Tensor MaskedLogSoftmax(Tensor logits, Tensor allowed, long dim, bool hasEmptyRows)
    {
        var notAllowed = allowed.logical_not();
        var filled = logits.masked_fill(notAllowed, double.NegativeInfinity);
        // With a finite entry in every row, log_softmax already gives −∞ exactly at the masked entries.
        if (!hasEmptyRows) return filled.log_softmax(dim);
        filled = filled.masked_fill(allowed.any(dim, keepdim: true).logical_not(), 0.0);
        return filled.log_softmax(dim).masked_fill(notAllowed, double.NegativeInfinity);
    }

    /// <summary>
    /// −log(e^pos / (e^pos + c·e^negative)) = log(e^pos + c·e^negative) − pos per anchor, in log-sum-exp form;
    /// <paramref name="logNegatives"/> may be −∞ (no negatives: the term is 0).
    /// </summary>
    public static Tensor NegativeLogRatio(Tensor positives, Tensor logNegatives, double scale)
    {
        if (scale <= 0) return positives * 0.0;              // still attached to the graph, so backward() works
        var both = torch.stack(new[] { positives, logNegatives + Math.Log(scale) }, -1);
        return both.logsumexp(-1) - positives;
    }

    /// <summary>[B,B] bool, true off the diagonal.</summary>
    public static Tensor OffDiagonal(long b, Device device) =>
        torch.eye(b, dtype: ScalarType.Bool, device: device).logical_not();
}
