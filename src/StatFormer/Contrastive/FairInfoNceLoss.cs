using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// Fair-InfoNCE (spec §2.2, Eq. 1): NT-Xent whose negatives for anchor i are only the samples j with
/// Groups[j] == Groups[i], i.e. drawn from the anchor's own value of z. A continuous z has to be binned into groups
/// first; the paper does not say how (spec §7 Q12), so the binning is the data side's choice, given here as
/// <see cref="SensitiveBatch.Groups"/>. An anchor alone in its group has only its positive (loss term 0).
/// </summary>
public sealed class FairInfoNceLoss : ContrastiveLoss
{
    public FairInfoNceLoss(double temperature = 0.1, string name = "fair_infonce") : base(name, temperature) { }

    public override Tensor forward(Tensor view1, Tensor view2, SensitiveBatch sensitive)
    {
        using var scope = torch.NewDisposeScope();
        var b = CheckBatch(view1, view2, sensitive);
        var groups = sensitive.Groups;
        if (groups is null || groups.dim() != 1 || groups.shape[0] != b)
            throw new ArgumentException($"sensitive.Groups must be [B={b}], got [{(groups is null ? "null" : string.Join(",", groups.shape))}]", nameof(sensitive));
        if (groups.is_floating_point())
            throw new ArgumentException($"sensitive.Groups must hold integer group ids, got {groups.dtype}", nameof(sensitive));
        var (u1, u2) = NormalizedViews(view1, view2);
        return InfoNceLoss.NtXent(u1, u2, Temperature, groups.to(u1.device)).MoveToOuterDisposeScope();
    }
}
