using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// The protected attribute of one batch, as the fair losses consume it.
/// </summary>
/// <param name="Features">[B,d_z] float: the sensitive attribute z, already standardised by the data side
/// (FARE/SparseFARE L2-normalise it again internally when <see cref="ContrastiveLossOptions.NormalizeSensitive"/> is set; CCLK
/// applies its kernel to it as given).</param>
/// <param name="Groups">[B] int64 group/bin id of each sample, used only by Fair-InfoNCE (negatives from the same group).
/// Binning a continuous z is the data side's job (spec §7 Q12: the paper does not say how it was done).</param>
public sealed record SensitiveBatch(Tensor Features, Tensor Groups);
