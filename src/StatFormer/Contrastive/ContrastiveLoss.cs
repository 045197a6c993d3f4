using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// A contrastive objective over a batch of positive pairs (view1_i, view2_i) that share the sensitive attribute z_i.
/// The loss L2-normalises the raw projections itself and scores pairs by f(x,y) = cos(x, y) / τ; every form is
/// evaluated in log-sum-exp form, so extreme logits neither overflow nor produce NaN.
/// <c>forward(view1 [B,P], view2 [B,P], sensitive)</c>: raw projections of the two views (row i of view2 is
/// the positive of row i of view1) and z and group ids of the same B samples; returns the scalar loss (to minimise).
/// </summary>
public abstract class ContrastiveLoss : nn.Module<Tensor, Tensor, SensitiveBatch, Tensor>
{
    protected ContrastiveLoss(string name, double temperature) : base(name)
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "must be a positive number");
        Temperature = temperature;
    }

    /// <summary>τ of the score f(x,y) = cos(x, y) / τ.</summary>
    public double Temperature { get; }

    /// <summary>Checks that the views and the sensitive batch describe the same B samples; returns B.</summary>
    /// <param name="sensitiveDim">The d_z the loss was built for, or null when the loss accepts any width.</param>
    protected static long CheckBatch(Tensor view1, Tensor view2, SensitiveBatch sensitive, long? sensitiveDim = null)
    {
        ArgumentNullException.ThrowIfNull(view1);
        ArgumentNullException.ThrowIfNull(view2);
        ArgumentNullException.ThrowIfNull(sensitive);
        if (view1.dim() != 2 || view1.shape[0] < 1 || view1.shape[1] < 1)
            throw new ArgumentException($"view1 must be [B,P] with B, P ≥ 1, got [{string.Join(",", view1.shape)}]", nameof(view1));
        if (!view2.shape.SequenceEqual(view1.shape))
            throw new ArgumentException($"view2 [{string.Join(",", view2.shape)}] must have view1's shape [{string.Join(",", view1.shape)}]", nameof(view2));
        var b = view1.shape[0];
        var z = sensitive.Features;
        if (z is null || z.dim() != 2 || z.shape[0] != b)
            throw new ArgumentException($"sensitive.Features must be [B={b},d_z], got [{(z is null ? "null" : string.Join(",", z.shape))}]", nameof(sensitive));
        if (sensitiveDim is long dz && z.shape[1] != dz)
            throw new ArgumentException($"sensitive.Features has d_z = {z.shape[1]}, but the loss was built for d_z = {dz}", nameof(sensitive));
        if (!z.is_floating_point())
            throw new ArgumentException($"sensitive.Features must be floating point, got {z.dtype}", nameof(sensitive));
        return b;
    }

    /// <summary>The views L2-normalised along P (a zero row stays zero instead of becoming NaN).</summary>
    protected static (Tensor U1, Tensor U2) NormalizedViews(Tensor view1, Tensor view2) =>
        (nn.functional.normalize(view1, p: 2, dim: 1), nn.functional.normalize(view2, p: 2, dim: 1));
}
