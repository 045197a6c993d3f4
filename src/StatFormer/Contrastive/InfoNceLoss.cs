using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// SimCLR NT-Xent (spec §2.1, the CCLK code's simclr_colormnist.py): over the 2B views each anchor has one positive
/// (its other view) and 2B − 2 negatives (the other samples' views, cross-view and same-view); the loss is the mean
/// cross-entropy over all 2B anchors. Ignores z.
/// </summary>
public sealed class InfoNceLoss : ContrastiveLoss
{
    public InfoNceLoss(double temperature = 0.1, string name = "infonce") : base(name, temperature) { }

    public override Tensor forward(Tensor view1, Tensor view2, SensitiveBatch sensitive)
    {
        using var scope = torch.NewDisposeScope();
        CheckBatch(view1, view2, sensitive);
        var (u1, u2) = NormalizedViews(view1, view2);
        return NtXent(u1, u2, Temperature, groups: null).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// NT-Xent of normalised views; with <paramref name="groups"/> the negatives are restricted to the anchor's group
    /// (the positive always shares it). An anchor without any negative contributes log(e^pos/e^pos) = 0.
    /// </summary>
    internal static Tensor NtXent(Tensor u1, Tensor u2, double temperature, Tensor? groups)
    {
        var b = u1.shape[0];
        var views = torch.cat(new[] { u1, u2 }, 0);                         // [2B,P]: rows 0..B−1 view1, B..2B−1 view2
        var logits = views.matmul(views.t()) / temperature;                 // [2B,2B]
        var allowed = ContrastiveMath.OffDiagonal(2 * b, u1.device);        // an anchor is never its own negative
        if (groups is not null)
        {
            var both = torch.cat(new[] { groups, groups }, 0);
            allowed = allowed.logical_and(both.unsqueeze(1).eq(both.unsqueeze(0)));
        }
        var positiveColumn = (torch.arange(2 * b, device: u1.device) + b).remainder(2 * b);
        var positives = logits.gather(1, positiveColumn.unsqueeze(1)).squeeze(1);
        var logPartition = ContrastiveMath.MaskedLogSumExp(logits, allowed, 1);  // includes the positive
        return (logPartition - positives).mean();
    }
}
