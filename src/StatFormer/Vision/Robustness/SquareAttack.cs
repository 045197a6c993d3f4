using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// Square (Andriushchenko et al. 2020), L∞, score-based: it only reads the margin z_y − max_{i≠y} z_i. Start: vertical
/// stripes, δ = ±ε·s per channel and column. Each later query draws, per image, an s×s window at a uniform position and
/// a sign per channel, sets δ there to ±ε·s (written as adding ±2ε·s and projecting) and keeps the change if the margin
/// dropped. Images already misclassified stop querying. The query budget counts the start.
/// </summary>
/// <remarks>
/// Differences from the reference code: the window fraction follows the paper's iteration schedule literally (the
/// reference rescales the iterations to a 10,000-query budget), and a window that would not change the image is not
/// redrawn (it costs one query).
/// </remarks>
public sealed class SquareAttack(int queries, double initialFraction) : IImageAttack
{
    /// <summary>The iterations after which the window fraction p halves.</summary>
    public static IReadOnlyList<int> HalvingIterations { get; } = new[] { 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 };

    public int Queries { get; } = queries >= 1 ? queries : throw new ArgumentException($"must be at least 1 (got {queries})", nameof(queries));
    public double InitialFraction { get; } = initialFraction > 0 && initialFraction <= 1
        ? initialFraction : throw new ArgumentException($"must be in (0, 1] (got {initialFraction})", nameof(initialFraction));

    public string Name => "square";
    public bool GradientFree => true;

    /// <summary>p at query iteration <paramref name="iteration"/> (0 = the first query after the start).</summary>
    public static double WindowFraction(int iteration, double initialFraction) =>
        initialFraction / Math.Pow(2, HalvingIterations.Count(h => iteration > h));

    /// <summary>The window side s = round(√(p·H·W)), at least 1 and at most min(H, W).</summary>
    public static int WindowSize(double fraction, int height, int width) =>
        Math.Clamp((int)Math.Round(Math.Sqrt(fraction * height * width)), 1, Math.Min(height, width));

    public Tensor Perturb(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, ThreatModel threat, Generator generator)
    {
        threat.CheckImages(images, nameof(images));
        if (threat.Norm != ThreatNorm.LInf) throw new ArgumentException("the Square attack here is L∞ only", nameof(threat));
        using var scope = torch.NewDisposeScope();
        var (batch, channels, height, width) = (images.shape[0], images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        var bound = threat.Bound(images, threat.Epsilon);
        Tensor Signs(long[] shape) => SeededDraws.Randint(0, 2, shape, generator, images.dtype, images.device).mul_(2).sub_(1);

        var current = threat.Project(images + Signs(new[] { batch, channels, 1L, width }).mul_(bound), images);
        var margin = AttackLosses.Margin(AttackLosses.Logits(model, current), labels);
        var rows = torch.arange(height, device: images.device).reshape(1, 1, height, 1);
        var columns = torch.arange(width, device: images.device).reshape(1, 1, 1, width);
        for (var iteration = 0; iteration < Queries - 1; iteration++)
        {
            using var stepScope = torch.NewDisposeScope();
            var open = margin.gt(0).nonzero().squeeze(1);
            var n = open.numel();
            if (n == 0) break;
            var side = WindowSize(WindowFraction(iteration, InitialFraction), height, width);
            var top = SeededDraws.Randint(0, height - side + 1, new[] { n, 1L, 1L, 1L }, generator, ScalarType.Int64, images.device);
            var left = SeededDraws.Randint(0, width - side + 1, new[] { n, 1L, 1L, 1L }, generator, ScalarType.Int64, images.device);
            var window = rows.ge(top).logical_and(rows.lt(top + side)).logical_and(columns.ge(left).logical_and(columns.lt(left + side)));
            var change = Signs(new[] { n, channels, 1L, 1L }).mul_(bound).mul_(2).mul(window.to_type(images.dtype));
            var openImages = images.index_select(0, open);
            var candidate = threat.Project(current.index_select(0, open) + change, openImages);
            var candidateMargin = AttackLosses.Margin(AttackLosses.Logits(model, candidate), labels.index_select(0, open));
            var better = candidateMargin.lt(margin.index_select(0, open));
            var accepted = open.masked_select(better);
            var rowsAccepted = better.nonzero().squeeze(1);
            AttackLosses.Replace(ref current, current.index_copy(0, accepted, candidate.index_select(0, rowsAccepted)));
            AttackLosses.Replace(ref margin, margin.index_copy(0, accepted, candidateMargin.index_select(0, rowsAccepted)));
        }
        return current.MoveToOuterDisposeScope();
    }
}
