using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// PGD on cross-entropy (Madry et al.): optionally a random start in the ball, then <see cref="Steps"/> steps
/// x ← Π(x + α·step(∇)), α = <see cref="StepFraction"/>·ε, in the threat's norm (L∞: signed gradient; L2: normalised).
/// Per image the first iterate that is misclassified is kept (so more steps never help the model: the trajectory of
/// k steps is a prefix of that of k + 1); an image never fooled keeps its last iterate. Restarts run again only on the
/// images still not fooled and keep the highest-loss final iterate among them.
/// </summary>
/// <remarks>
/// Each step is exactly one forward+backward of the batch (the forward's logits also decide which images are fooled
/// at that iterate), plus one forward at the end to judge the last iterate.
/// </remarks>
public sealed class PgdAttack(int steps, double stepFraction, int restarts, bool randomStart, string name = "pgd") : IImageAttack
{
    public int Steps { get; } = steps >= 1 ? steps : throw new ArgumentException($"must be at least 1 (got {steps})", nameof(steps));
    public double StepFraction { get; } = stepFraction > 0 ? stepFraction : throw new ArgumentException($"must be positive (got {stepFraction})", nameof(stepFraction));
    public int Restarts { get; } = restarts >= 1 ? restarts : throw new ArgumentException($"must be at least 1 (got {restarts})", nameof(restarts));
    public bool RandomStart { get; } = randomStart;

    public string Name { get; } = name;
    public bool GradientFree => false;

    public Tensor Perturb(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, ThreatModel threat, Generator generator)
    {
        threat.CheckImages(images, nameof(images));
        using var scope = torch.NewDisposeScope();
        var (best, bestLoss, fooled) = Run(model, images, labels, threat, generator);
        for (var restart = 1; restart < Restarts; restart++)
        {
            using var restartScope = torch.NewDisposeScope();
            var open = fooled.logical_not().nonzero().squeeze(1);
            if (open.numel() == 0) break;
            var (candidate, candidateLoss, candidateFooled) = Run(model, images.index_select(0, open), labels.index_select(0, open), threat, generator);
            // A restart's result replaces the kept one when it fools the model or reaches a higher loss.
            var better = candidateFooled.logical_or(candidateLoss.gt(bestLoss.index_select(0, open)));
            var replace = open.masked_select(better);
            var rows = better.nonzero().squeeze(1);
            best = best.index_copy(0, replace, candidate.index_select(0, rows));
            bestLoss = bestLoss.index_copy(0, replace, candidateLoss.index_select(0, rows));
            fooled = fooled.index_copy(0, replace, candidateFooled.index_select(0, rows));
            best.MoveToOuterDisposeScope();
            bestLoss.MoveToOuterDisposeScope();
            fooled.MoveToOuterDisposeScope();
        }
        return best.MoveToOuterDisposeScope();
    }

    /// <summary>One PGD run: the kept iterate per image, its loss and whether it fools the model.</summary>
    private (Tensor Adversarial, Tensor Loss, Tensor Fooled) Run(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels,
        ThreatModel threat, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var alpha = StepFraction * threat.Epsilon;
        var current = RandomStart ? threat.RandomStart(images, generator) : images.clone();
        (Tensor Lower, Tensor Upper)? box = threat.Norm == ThreatNorm.LInf ? threat.LInfBox(images) : null;
        var scale = threat.Scale(images);
        var kept = current.clone();
        var keptLoss = torch.zeros(images.shape[0], dtype: images.dtype, device: images.device);
        var fooled = torch.zeros(images.shape[0], dtype: ScalarType.Bool, device: images.device);
        for (var step = 0; step < Steps; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            var (gradient, loss, logits) = AttackLosses.InputGradient(model, current, l => AttackLosses.CrossEntropy(l, labels));
            // The iterate just evaluated: freeze the images it fools for the first time.
            var newlyFooled = logits.argmax(1).ne(labels).logical_and_(fooled.logical_not());
            // Most steps fool no new image: skip the image-sized copy then.
            if (newlyFooled.any().item<bool>())
            {
                AttackLosses.Replace(ref kept, kept.where(newlyFooled.logical_not().reshape(-1, 1, 1, 1), current));
                AttackLosses.Replace(ref keptLoss, keptLoss.where(newlyFooled.logical_not(), loss));
                AttackLosses.Replace(ref fooled, fooled.logical_or(newlyFooled));
            }
            if (box is var (lower, upper))
            {
                // L∞: x ← clamp(x + α·s·sign g, lower, upper), in place: three image-sized operations per step.
                var direction = gradient.sign_();
                if (scale is not null) direction = direction.mul_(scale);
                current.add_(direction, alpha: alpha).clamp_(lower, upper);
            }
            else
            {
                AttackLosses.Replace(ref current, threat.Project(threat.Step(current, gradient, alpha), images));
            }
        }
        var finalLogits = AttackLosses.Logits(model, current);
        var finalLoss = AttackLosses.CrossEntropy(finalLogits, labels);
        var open = fooled.logical_not();
        var finalFooled = finalLogits.argmax(1).ne(labels).logical_and(open);
        kept = kept.where(open.reshape(-1, 1, 1, 1).logical_not(), current);
        keptLoss = keptLoss.where(open.logical_not(), finalLoss);
        fooled = fooled.logical_or(finalFooled);
        return (kept.MoveToOuterDisposeScope(), keptLoss.MoveToOuterDisposeScope(), fooled.MoveToOuterDisposeScope());
    }
}
