using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>The norm of a threat model's ball.</summary>
public enum ThreatNorm
{
    LInf,
    L2,
}

/// <summary>
/// The set an attack may move a clean image x into: x' = x + δ with δ_c = s_c·u_c per channel c and ‖u‖ ≤ Epsilon in
/// <see cref="Norm"/>, then (when <see cref="ClipToUnitRange"/>) x' inside [0, 1]. The channel scale s is 1 in pixel
/// mode (<see cref="ChannelScale"/> null) and the normalisation's std in the authors' normalised mode, where an ε of
/// 1/255 is 1/255 in the model's normalised input. Every attack step size is in the same units as Epsilon.
/// </summary>
/// <remarks>
/// For L2 the projection onto the ball is followed by the clip; clipping only moves a coordinate toward the clean
/// image (x ∈ [0, 1]), so the result stays in both sets (it is not the exact Euclidean projection onto their
/// intersection, which no reference attack computes either).
/// </remarks>
public sealed record ThreatModel(ThreatNorm Norm, double Epsilon, IReadOnlyList<double>? ChannelScale = null, bool ClipToUnitRange = true)
{
    /// <summary>Smallest norm divided by, so that a zero gradient or ε = 0 gives a zero step rather than NaN.</summary>
    private const double TinyNorm = 1e-12;

    public void Validate()
    {
        Options.OptionCheck.Require(Enum.IsDefined(Norm), nameof(Norm), "unknown norm");
        Options.OptionCheck.Require(double.IsFinite(Epsilon) && Epsilon >= 0, nameof(Epsilon), $"must be finite and ≥ 0 (got {Epsilon})");
        Options.OptionCheck.Require(ChannelScale is null || (ChannelScale.Count > 0 && ChannelScale.All(s => double.IsFinite(s) && s > 0)),
            nameof(ChannelScale), "every channel scale must be positive");
    }

    /// <summary>Checks that <paramref name="images"/> are [B,C,H,W] with as many channels as the channel scale.</summary>
    public void CheckImages(Tensor images, string argument)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"expected images [B,C,H,W], got [{string.Join(",", images.shape)}]", argument);
        if (ChannelScale is not null && images.shape[1] != ChannelScale.Count)
            throw new ArgumentException($"the threat model has {ChannelScale.Count} channel scales but the images have {images.shape[1]} channels", argument);
    }

    /// <summary>s as [1,C,1,1] on <paramref name="like"/>'s device, or null for the pixel mode's s = 1.</summary>
    public Tensor? Scale(Tensor like) => ChannelScale is null
        ? null
        : torch.tensor(ChannelScale.Select(v => (float)v).ToArray(), dtype: like.dtype, device: like.device).reshape(1, ChannelScale.Count, 1, 1);

    /// <summary>The per-coordinate L∞ bound ε·s: [1,C,1,1], or a [1] tensor in pixel mode.</summary>
    public Tensor Bound(Tensor like, double epsilon)
    {
        var scale = Scale(like);
        if (scale is null) return torch.tensor(new[] { (float)epsilon }, dtype: like.dtype, device: like.device);
        return scale.mul_(epsilon);
    }

    /// <summary>Projects <paramref name="adversarial"/> onto the ball around <paramref name="clean"/>, then clips. A new tensor.</summary>
    public Tensor Project(Tensor adversarial, Tensor clean)
    {
        using var scope = torch.NewDisposeScope();
        var delta = adversarial - clean;
        if (Norm == ThreatNorm.LInf)
        {
            var bound = Bound(clean, Epsilon);
            delta = delta.maximum(bound.neg()).minimum(bound);
        }
        else
        {
            var norms = Distance(adversarial, clean);
            var factor = torch.clamp_max(norms.clamp_min(TinyNorm).reciprocal().mul_(Epsilon), 1.0).reshape(-1, 1, 1, 1);
            delta = delta.mul(factor);
        }
        var projected = clean + delta;
        if (ClipToUnitRange) projected = projected.clamp_(0.0, 1.0);
        return projected.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For an L∞ threat, the per-coordinate box [lower, upper] that the ball and the clip leave around
    /// <paramref name="clean"/>: projecting is then a single clamp, which PGD's inner loop uses.
    /// </summary>
    public (Tensor Lower, Tensor Upper) LInfBox(Tensor clean)
    {
        if (Norm != ThreatNorm.LInf) throw new InvalidOperationException("a box exists only for an L∞ threat");
        using var scope = torch.NewDisposeScope();
        var bound = Bound(clean, Epsilon);
        var lower = clean - bound;
        var upper = clean + bound;
        if (ClipToUnitRange)
        {
            lower = lower.clamp_(0.0, 1.0);
            upper = upper.clamp_(0.0, 1.0);
        }
        return (lower.MoveToOuterDisposeScope(), upper.MoveToOuterDisposeScope());
    }

    /// <summary>Per image ‖u‖ (δ = s·u) in this threat's norm: [B].</summary>
    public Tensor Distance(Tensor adversarial, Tensor clean)
    {
        using var scope = torch.NewDisposeScope();
        var u = adversarial - clean;
        var scale = Scale(clean);
        if (scale is not null) u = u.div(scale);
        var flat = u.flatten(1);
        var norms = Norm == ThreatNorm.LInf ? flat.abs().amax(new long[] { 1 }) : flat.square().sum(new long[] { 1 }).sqrt();
        return norms.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The unit ascent direction along <paramref name="gradient"/>, in pixels: s·sign(g) for L∞; for L2 the steepest
    /// direction in u-space, s·(s·g)/‖s·g‖ (d/du = s·d/dx), so a step of size a moves u by exactly a.
    /// </summary>
    public Tensor Direction(Tensor gradient)
    {
        using var scope = torch.NewDisposeScope();
        var scale = Scale(gradient);
        Tensor direction;
        if (Norm == ThreatNorm.LInf)
        {
            direction = gradient.sign();
        }
        else
        {
            var gu = scale is null ? gradient : gradient.mul(scale);
            var norms = gu.flatten(1).square().sum(new long[] { 1 }).sqrt().clamp_min(TinyNorm).reshape(-1, 1, 1, 1);
            direction = gu.div(norms);
        }
        if (scale is not null) direction = direction.mul(scale);
        return direction.MoveToOuterDisposeScope();
    }

    /// <summary>An ascent step of <paramref name="size"/> (threat units) along <paramref name="gradient"/>, not projected.</summary>
    public Tensor Step(Tensor adversarial, Tensor gradient, double size)
    {
        using var direction = Direction(gradient);
        return adversarial.add(direction, alpha: size);
    }

    /// <summary>
    /// A random point of the ball around <paramref name="clean"/>, clipped: L∞ uniform per coordinate in [−ε·s, ε·s];
    /// L2 a uniformly random direction with radius ε·U(0, 1).
    /// </summary>
    public Tensor RandomStart(Tensor clean, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        Tensor u;
        if (Norm == ThreatNorm.LInf)
        {
            u = SeededDraws.Rand(clean.shape, generator, clean.dtype, clean.device).mul_(2).sub_(1).mul_(Epsilon);
        }
        else
        {
            var z = SeededDraws.Randn(clean.shape, generator, clean.dtype, clean.device);
            var radius = SeededDraws.Rand(new[] { clean.shape[0], 1L, 1L, 1L }, generator, clean.dtype, clean.device).mul_(Epsilon);
            var norms = z.flatten(1).square().sum(new long[] { 1 }).sqrt().clamp_min(TinyNorm).reshape(-1, 1, 1, 1);
            u = z.div(norms).mul(radius);
        }
        var scale = Scale(clean);
        var start = clean + (scale is null ? u : u.mul(scale));
        // Rounding can leave the sum a hair outside the ball; the projection also clips.
        return Project(start, clean).MoveToOuterDisposeScope();
    }
}
