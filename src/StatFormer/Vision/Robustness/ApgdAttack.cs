using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// Auto-PGD (Croce and Hein 2020). APGD-CE (<c>targets</c> = 0) maximises cross-entropy; APGD-T maximises the targeted
/// DLR loss once per target, the classes with the 2nd…(targets+1)-th largest clean logits, each later target only on
/// the images the earlier ones did not fool.
/// </summary>
/// <remarks>
/// One run of N iterations: start x₀ = Π(x + ε·s·t/‖t‖), t ~ U(−1, 1); step η = 2ε per image; each iteration
/// z = Π(x_k + η·step(∇)), x_{k+1} = Π(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1})), α = 1 at the first iteration and
/// 0.75 after. At the checkpoints of <see cref="Checkpoints"/> η halves where <see cref="ShouldHalve"/> holds, and those
/// images restart from their highest-loss point (with no momentum: x_{k−1} is set to that point as well). Per image the
/// first misclassified iterate is returned, otherwise the highest-loss one.
/// </remarks>
public sealed class ApgdAttack(int iterations, int targets) : IImageAttack
{
    /// <summary>ρ: halve when the loss rose in at most this fraction of the steps since the last checkpoint.</summary>
    public const double IncreaseFraction = 0.75;
    /// <summary>The momentum weight α after the first iteration.</summary>
    public const double Momentum = 0.75;

    public int Iterations { get; } = iterations >= 1 ? iterations : throw new ArgumentException($"must be at least 1 (got {iterations})", nameof(iterations));
    public int Targets { get; } = targets >= 0 ? targets : throw new ArgumentException($"must be ≥ 0 (got {targets})", nameof(targets));

    public string Name => Targets == 0 ? "apgd-ce" : "apgd-t";
    public bool GradientFree => false;

    public Tensor Perturb(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, ThreatModel threat, Generator generator)
    {
        threat.CheckImages(images, nameof(images));
        using var scope = torch.NewDisposeScope();
        if (Targets == 0)
            return Run(model, images, labels, logits => AttackLosses.CrossEntropy(logits, labels), threat, generator).Adversarial.MoveToOuterDisposeScope();

        var ranked = AttackLosses.Logits(model, images).argsort(dim: 1, descending: true);
        var classes = ranked.shape[1];
        if (classes < 4) throw new ArgumentException($"APGD-T's DLR loss needs at least 4 classes (the model has {classes})", nameof(model));
        var result = images.clone();
        var fooled = torch.zeros(images.shape[0], dtype: ScalarType.Bool, device: images.device);
        for (var t = 1; t <= Math.Min(Targets, classes - 1); t++)
        {
            using var targetScope = torch.NewDisposeScope();
            var open = fooled.logical_not().nonzero().squeeze(1);
            if (open.numel() == 0) break;
            var openLabels = labels.index_select(0, open);
            var openTargets = ranked[.., t].index_select(0, open);
            var (adversarial, runFooled) = Run(model, images.index_select(0, open), openLabels,
                logits => AttackLosses.TargetedDlr(logits, openLabels, openTargets), threat, generator);
            AttackLosses.Replace(ref result, result.index_copy(0, open, adversarial));
            AttackLosses.Replace(ref fooled, fooled.index_copy(0, open, runFooled));
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The iterations after which η may halve, for N iterations: the first after ⌈0.22N⌉, each later interval shorter
    /// by ⌈0.03N⌉ than the one before and never below ⌈0.06N⌉; only those ≤ N. (Integer arithmetic: 0.22·100 is not 22 in
    /// floating point.)
    /// </summary>
    public static IReadOnlyList<int> Checkpoints(int iterations)
    {
        var first = (22 * iterations + 99) / 100;
        var shrink = (3 * iterations + 99) / 100;
        var shortest = (6 * iterations + 99) / 100;
        var points = new List<int>();
        var interval = first;
        for (var at = first; at <= iterations; interval = Math.Max(interval - shrink, shortest), at += interval)
            points.Add(at);
        return points;
    }

    /// <summary>
    /// Per image, whether η halves at a checkpoint: the loss rose in at most ρ = 0.75 of the <paramref name="interval"/>
    /// steps since the last checkpoint, or η was not halved at the last checkpoint and the best loss has not improved
    /// since it.
    /// </summary>
    /// <param name="increases">int64 [B]: steps since the last checkpoint whose loss exceeded the previous step's.</param>
    public static Tensor ShouldHalve(Tensor increases, int interval, Tensor halvedLast, Tensor bestAtLastCheckpoint, Tensor best)
    {
        using var scope = torch.NewDisposeScope();
        var oscillating = increases.to_type(ScalarType.Float64).le(IncreaseFraction * interval);
        var stalled = halvedLast.logical_not().logical_and(best.le(bestAtLastCheckpoint));
        return oscillating.logical_or(stalled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One momentum step: z = Π(x_k + η·step(∇)), x_{k+1} = Π(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1})).
    /// </summary>
    /// <param name="stepSize">η per image, float [B], in threat units.</param>
    public static Tensor MomentumStep(Tensor current, Tensor previous, Tensor gradient, Tensor stepSize, double alpha, ThreatModel threat, Tensor clean)
    {
        using var scope = torch.NewDisposeScope();
        var z = threat.Project(current + threat.Direction(gradient).mul_(stepSize.reshape(-1, 1, 1, 1)), clean);
        var next = current + (z - current).mul_(alpha) + (current - previous).mul_(1 - alpha);
        return threat.Project(next, clean).MoveToOuterDisposeScope();
    }

    private (Tensor Adversarial, Tensor Fooled) Run(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, Func<Tensor, Tensor> loss,
        ThreatModel threat, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var batch = images.shape[0];
        var checkpoints = new HashSet<int>(Checkpoints(Iterations));

        var t = SeededDraws.Rand(images.shape, generator, images.dtype, images.device).mul_(2).sub_(1);
        var tNorm = (threat.Norm == ThreatNorm.LInf ? t.flatten(1).abs().amax(new long[] { 1 }) : t.flatten(1).square().sum(new long[] { 1 }).sqrt())
            .clamp_min(1e-12).reshape(-1, 1, 1, 1);
        var scale = threat.Scale(images);
        var u = t.div(tNorm).mul_(threat.Epsilon);
        var current = threat.Project(images + (scale is null ? u : u.mul(scale)), images);
        var previous = current.clone();
        var (gradient, currentLoss, logits) = AttackLosses.InputGradient(model, current, loss);

        var fooled = logits.argmax(1).ne(labels);
        var kept = current.clone();
        var bestPoint = current.clone();
        var bestLoss = currentLoss.clone();
        var bestGradient = gradient.clone();
        var stepSize = torch.full(batch, 2 * threat.Epsilon, dtype: images.dtype, device: images.device);
        var increases = torch.zeros(batch, dtype: ScalarType.Int64, device: images.device);
        var halvedLast = torch.zeros(batch, dtype: ScalarType.Bool, device: images.device);
        var bestAtLastCheckpoint = bestLoss.clone();
        var lastCheckpoint = 0;

        for (var k = 0; k < Iterations; k++)
        {
            using var stepScope = torch.NewDisposeScope();
            var next = MomentumStep(current, previous, gradient, stepSize, k == 0 ? 1.0 : Momentum, threat, images);
            var (nextGradient, nextLoss, nextLogits) = AttackLosses.InputGradient(model, next, loss);

            var newlyFooled = nextLogits.argmax(1).ne(labels).logical_and_(fooled.logical_not());
            AttackLosses.Replace(ref kept, kept.where(newlyFooled.reshape(-1, 1, 1, 1).logical_not(), next));
            AttackLosses.Replace(ref fooled, fooled.logical_or(newlyFooled));
            AttackLosses.Replace(ref increases, increases.add(nextLoss.gt(currentLoss).to_type(ScalarType.Int64)));
            var improved = nextLoss.gt(bestLoss);
            var improvedImage = improved.reshape(-1, 1, 1, 1);
            AttackLosses.Replace(ref bestPoint, next.where(improvedImage, bestPoint));
            AttackLosses.Replace(ref bestGradient, nextGradient.where(improvedImage, bestGradient));
            AttackLosses.Replace(ref bestLoss, nextLoss.where(improved, bestLoss));
            AttackLosses.Replace(ref previous, current.clone());
            AttackLosses.Replace(ref current, next);
            AttackLosses.Replace(ref gradient, nextGradient);
            AttackLosses.Replace(ref currentLoss, nextLoss);

            if (!checkpoints.Contains(k + 1)) continue;
            var halve = ShouldHalve(increases, k + 1 - lastCheckpoint, halvedLast, bestAtLastCheckpoint, bestLoss);
            var halveImage = halve.reshape(-1, 1, 1, 1);
            AttackLosses.Replace(ref stepSize, stepSize.where(halve.logical_not(), stepSize.mul(0.5)));
            AttackLosses.Replace(ref current, bestPoint.where(halveImage, current));
            AttackLosses.Replace(ref previous, bestPoint.where(halveImage, previous));
            AttackLosses.Replace(ref gradient, bestGradient.where(halveImage, gradient));
            AttackLosses.Replace(ref currentLoss, bestLoss.where(halve, currentLoss));
            AttackLosses.Replace(ref halvedLast, halve.clone());
            AttackLosses.Replace(ref bestAtLastCheckpoint, bestLoss.clone());
            AttackLosses.Replace(ref increases, torch.zeros_like(increases));
            lastCheckpoint = k + 1;
        }
        var result = kept.where(fooled.reshape(-1, 1, 1, 1), bestPoint);
        return (result.MoveToOuterDisposeScope(), fooled.MoveToOuterDisposeScope());
    }
}
