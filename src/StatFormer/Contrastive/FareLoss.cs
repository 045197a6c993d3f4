using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// FAREContrast with fairness-aware attention (spec §2.4, §2.6, §3). The negatives of anchor x_i are weighted by a
/// single-head self-attention over the batch's sensitive attributes:
/// FARE_i = Σ_{j∈S_i} P_ij e^{f(x_i,y_j)}, P_i = softmax_j((W_Q z_i)ᵀ(W_K z_j)/ρ) over the support S_i (all j ≠ i
/// unless <see cref="IncludePositive"/>), and loss_x = mean_i [log(e^{f_ii} + c_neg·FARE_i) − f_ii]; loss_y is the same
/// with y as anchor (values e^{f(y_i,x_j)}, the same P since z is shared), loss = (loss_x + loss_y)/2 (symmetrised
/// CCLK-style, spec §3). Evaluated as logsumexp([f_ii, log c_neg + logsumexp_j(log P_ij + f_ij)]).
/// W_Q, W_K start as the same (semi-)orthogonal matrix, the identity when d_k = d_z, so that at start the attention is
/// softmax(z_iᵀz_j/ρ), the Gaussian-kernel Nadaraya–Watson estimator of Eq. 10. There is no W_V (Remark 2).
/// </summary>
public class FareLoss : ContrastiveLoss
{
    private readonly Parameter queryProjection;
    private readonly Parameter keyProjection;

    public FareLoss(int sensitiveDim, ContrastiveLossOptions options) : this(sensitiveDim, options, "fare") { }

    protected FareLoss(int sensitiveDim, ContrastiveLossOptions options, string name) : base(name, options.Temperature)
    {
        options.Validate();
        if (sensitiveDim < 1) throw new ArgumentException($"the sensitive attribute needs at least one feature, got d_z = {sensitiveDim}", nameof(sensitiveDim));
        SensitiveDim = sensitiveDim;
        AttentionDim = options.AttentionDim == 0 ? sensitiveDim : options.AttentionDim;
        AttentionTemperature = options.AttentionTemperature == 0 ? Math.Sqrt(AttentionDim) : options.AttentionTemperature;
        IncludePositive = options.IncludePositive;
        NegativeScale = options.NegativeScale;
        NormalizeSensitive = options.NormalizeSensitive;
        SameViewNegatives = options.SameViewNegatives;
        queryProjection = new Parameter(InitialProjection(sensitiveDim, AttentionDim));
        keyProjection = new Parameter(queryProjection.detach().clone());
        register_parameter("query_projection", queryProjection);
        register_parameter("key_projection", keyProjection);
    }

    public int SensitiveDim { get; }
    /// <summary>d_k (the option's 0 resolved to d_z).</summary>
    public int AttentionDim { get; }
    /// <summary>ρ (the option's 0 resolved to √d_k).</summary>
    public double AttentionTemperature { get; }
    public bool IncludePositive { get; }
    public FareNegativeScale NegativeScale { get; }
    public bool NormalizeSensitive { get; }
    public bool SameViewNegatives { get; }

    /// <summary>W_Q [d_z,d_k]: queries Q = z W_Q (trained jointly with the encoder by minimising the same loss).</summary>
    public Parameter QueryProjection => queryProjection;
    /// <summary>W_K [d_z,d_k]: keys K = z W_K.</summary>
    public Parameter KeyProjection => keyProjection;

    public override Tensor forward(Tensor view1, Tensor view2, SensitiveBatch sensitive)
    {
        using var scope = torch.NewDisposeScope();
        var b = CheckBatch(view1, view2, sensitive, SensitiveDim);
        var (u1, u2) = NormalizedViews(view1, view2);
        var z = PreparedSensitive(sensitive, u1);
        var allowed = SupportMask(z);
        return DenseLoss(u1, u2, z, allowed, b).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention entropy and z-distance preference over the support the loss uses (no gradient). SparseFARE hashes
    /// afresh here (a new R from the global generator, as in a forward), so its support is a typical one, not the
    /// last forward's.
    /// </summary>
    public FareAttentionDiagnostics Diagnose(SensitiveBatch sensitive)
    {
        ArgumentNullException.ThrowIfNull(sensitive);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var raw = sensitive.Features;
        if (raw is null || raw.dim() != 2 || raw.shape[0] < 1 || raw.shape[1] != SensitiveDim)
            throw new ArgumentException($"sensitive.Features must be [B,{SensitiveDim}], got [{(raw is null ? "null" : string.Join(",", raw.shape))}]", nameof(sensitive));
        var rawZ = raw.to(queryProjection.device).to_type(queryProjection.dtype);
        var z = NormalizeSensitive ? nn.functional.normalize(rawZ, p: 2, dim: 1) : rawZ;
        var allowed = SupportMask(z);
        var logP = ContrastiveMath.MaskedLogSoftmax(AttentionLogits(z, z), allowed, 1, ContrastiveMath.HasEmptyRows(allowed, 1));
        var p = logP.exp();                                                   // 0 outside the support
        var support = allowed.sum(1).to_type(ScalarType.Float64);
        var hasSupport = support.gt(0.0);
        var rows = hasSupport.sum().item<long>();
        var entropy = -(p * logP.masked_fill(allowed.logical_not(), 0.0)).sum(1).to_type(ScalarType.Float64);
        var distances = torch.cdist(rawZ.unsqueeze(0), rawZ.unsqueeze(0)).squeeze(0);
        var attended = (p * distances).sum(1).to_type(ScalarType.Float64);
        var uniform = (distances * allowed.to_type(distances.dtype)).sum(1).to_type(ScalarType.Float64) / support.clamp_min(1.0);
        double MeanOverRows(Tensor perRow) => rows == 0 ? double.NaN : perRow.masked_select(hasSupport).mean().item<double>();
        var attendedMean = MeanOverRows(attended);
        var uniformMean = MeanOverRows(uniform);
        return new FareAttentionDiagnostics(
            MeanEntropy: MeanOverRows(entropy),
            UniformEntropy: MeanOverRows(support.clamp_min(1.0).log()),
            AttendedDistance: attendedMean,
            UniformDistance: uniformMean,
            DistanceRatio: uniformMean > 0 ? attendedMean / uniformMean : double.NaN,
            MeanSupportSize: support.mean().item<double>(),
            EmptySupportRows: (int)(raw.shape[0] - rows));
    }

    /// <summary>c_neg for a batch of <paramref name="b"/>.</summary>
    protected double NegativeScaleFor(long b) => NegativeScale == FareNegativeScale.One ? 1.0 : b - 1;

    /// <summary>z as the attention sees it: on the views' device and dtype, rows L2-normalised if configured.</summary>
    protected Tensor PreparedSensitive(SensitiveBatch sensitive, Tensor like)
    {
        var z = sensitive.Features.to(like.device).to_type(like.dtype);
        return NormalizeSensitive ? nn.functional.normalize(z, p: 2, dim: 1) : z;
    }

    /// <summary>[..., n, m] attention logits (z_q W_Q)(z_k W_K)ᵀ/ρ.</summary>
    protected Tensor AttentionLogits(Tensor queriesZ, Tensor keysZ) =>
        queriesZ.matmul(queryProjection).matmul(keysZ.matmul(keyProjection).transpose(-2, -1)) / AttentionTemperature;

    /// <summary>The dense [B,B] support S (true = j may be attended by i). FARE: every j ≠ i, or every j with the positive.</summary>
    protected virtual Tensor SupportMask(Tensor z)
    {
        var b = z.shape[0];
        return IncludePositive
            ? torch.ones(b, b, dtype: ScalarType.Bool, device: z.device)
            : ContrastiveMath.OffDiagonal(b, z.device);
    }

    /// <summary>The loss over a dense [B,B] support mask.</summary>
    protected Tensor DenseLoss(Tensor u1, Tensor u2, Tensor z, Tensor allowed, long b)
    {
        var s12 = u1.matmul(u2.t()) / Temperature;
        var notSelf = SameViewNegatives ? ContrastiveMath.OffDiagonal(b, u1.device) : null;
        var terms = AnchorTerms(AttentionLogits(z, z), allowed, notSelf, s12.diagonal(), s12, s12.t(),
            SameViewNegatives ? u1.matmul(u1.t()) / Temperature : null,
            SameViewNegatives ? u2.matmul(u2.t()) / Temperature : null, b);
        return terms.mean();
    }

    /// <summary>
    /// Per-anchor loss (loss_x + loss_y)/2 over any block layout [..., n, m]: attention logits, the support, the
    /// positives [..., n], cross-view scores f(x_i,y_j) and f(y_i,x_j), and (optional) same-view scores whose j = i
    /// entries are excluded via <paramref name="notSelf"/>.
    /// </summary>
    protected Tensor AnchorTerms(Tensor attentionLogits, Tensor allowed, Tensor? notSelf, Tensor positives,
        Tensor crossX, Tensor crossY, Tensor? sameX, Tensor? sameY, long b)
    {
        var hasEmptyRows = ContrastiveMath.HasEmptyRows(allowed, -1);
        var logP = ContrastiveMath.MaskedLogSoftmax(attentionLogits, allowed, -1, hasEmptyRows);  // −∞ outside the support
        var scale = NegativeScaleFor(b);
        var sameAllowed = sameX is null ? null : allowed.logical_and(notSelf!);
        Tensor Side(Tensor cross, Tensor? same)
        {
            var logNegatives = same is null
                ? ContrastiveMath.LogSumExpOfMasked(logP + cross, allowed, -1, hasEmptyRows)
                // Same-view j = i must not count even when the positive is in the support (IncludePositive).
                : ContrastiveMath.MaskedLogSumExp(torch.cat(new[] { logP + cross, logP + same }, -1),
                    torch.cat(new[] { allowed, sameAllowed! }, -1), -1);
            return ContrastiveMath.NegativeLogRatio(positives, logNegatives, scale);
        }
        return (Side(crossX, sameX) + Side(crossY, sameY)) / 2;
    }

    /// <summary>
    /// The start point of W_Q and W_K (the same matrix for both): the identity when d_k = d_z; otherwise a random
    /// semi-orthogonal matrix M (orthonormal rows when d_k &gt; d_z, so M Mᵀ = I and the logits are exactly z_iᵀz_j;
    /// orthonormal columns when d_k &lt; d_z, a random projection). A rectangular identity would leave the extra
    /// columns of both at zero, where their gradient is zero too, so they could never learn.
    /// </summary>
    private static Tensor InitialProjection(int sensitiveDim, int attentionDim)
    {
        using var noGrad = torch.no_grad();
        if (sensitiveDim == attentionDim) return torch.eye(sensitiveDim);
        var m = torch.empty(sensitiveDim, attentionDim);
        nn.init.orthogonal_(m);
        return m;
    }
}
