using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// SPSA (Uesato et al. 2018, cleverhans defaults): per image, Adam minimises the margin z_y − max_{i≠y} z_i using the
/// gradient estimate mean over Rademacher v of (L(x + δv) − L(x − δv))/(2δ)·v, projecting after each step; the start
/// is a uniform random point of the ball. Only logits are queried, so masked gradients do not stop it. Per image the
/// first iterate that is misclassified is kept, otherwise the last one.
/// </summary>
/// <remarks>
/// δ and the learning rate are in the threat's units (times the channel scale s in pixels). Adam: β₁ 0.9, β₂ 0.999,
/// ε̂ 1e-8, bias-corrected. Probes are batched, about <see cref="MaxProbeElements"/> floats per forward (4096 CIFAR
/// images; at least the 2·B images of one sample).
/// </remarks>
public sealed class SpsaAttack(int iterations, int samples, double delta, double learningRate) : IImageAttack
{
    /// <summary>Floats per probe forward (50 MB): bounds the memory of one gradient estimate.</summary>
    public const long MaxProbeElements = 4096L * 3 * 32 * 32;

    public int Iterations { get; } = iterations >= 1 ? iterations : throw new ArgumentException($"must be at least 1 (got {iterations})", nameof(iterations));
    public int Samples { get; } = samples >= 1 ? samples : throw new ArgumentException($"must be at least 1 (got {samples})", nameof(samples));
    public double Delta { get; } = delta > 0 ? delta : throw new ArgumentException($"must be positive (got {delta})", nameof(delta));
    public double LearningRate { get; } = learningRate > 0 ? learningRate : throw new ArgumentException($"must be positive (got {learningRate})", nameof(learningRate));

    public string Name => "spsa";
    public bool GradientFree => true;

    public Tensor Perturb(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, ThreatModel threat, Generator generator)
    {
        threat.CheckImages(images, nameof(images));
        using var scope = torch.NewDisposeScope();
        var batch = images.shape[0];
        var scale = threat.Scale(images);
        Tensor MarginOfStack(Tensor stacked) =>
            AttackLosses.Margin(AttackLosses.Logits(model, stacked), labels.repeat(stacked.shape[0] / batch));

        var current = threat.RandomStart(images, generator);
        var kept = current.clone();
        var fooled = torch.zeros(batch, dtype: ScalarType.Bool, device: images.device);
        var firstMoment = torch.zeros_like(images);
        var secondMoment = torch.zeros_like(images);
        const double beta1 = 0.9, beta2 = 0.999, adamEpsilon = 1e-8;
        for (var t = 1; t <= Iterations + 1; t++)
        {
            using var stepScope = torch.NewDisposeScope();
            var newlyFooled = AttackLosses.Logits(model, current).argmax(1).ne(labels).logical_and_(fooled.logical_not());
            AttackLosses.Replace(ref kept, kept.where(newlyFooled.reshape(-1, 1, 1, 1).logical_not(), current));
            AttackLosses.Replace(ref fooled, fooled.logical_or(newlyFooled));
            if (t > Iterations) break;

            var gradient = EstimateGradient(MarginOfStack, current, Samples, Delta, scale, generator);
            AttackLosses.Replace(ref firstMoment, firstMoment.mul(beta1).add_(gradient, alpha: 1 - beta1));
            AttackLosses.Replace(ref secondMoment, secondMoment.mul(beta2).addcmul_(gradient, gradient, value: 1 - beta2));
            var corrected = firstMoment.div(1 - Math.Pow(beta1, t));
            var denominator = secondMoment.div(1 - Math.Pow(beta2, t)).sqrt_().add_(adamEpsilon);
            var update = corrected.div_(denominator);
            if (scale is not null) update = update.mul_(scale);
            AttackLosses.Replace(ref current, threat.Project(current.sub(update.mul_(LearningRate)), images));
        }
        return kept.where(fooled.reshape(-1, 1, 1, 1), current).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The SPSA estimate of ∇ loss at each image of <paramref name="x"/> [B,…]: mean over <paramref name="samples"/>
    /// Rademacher v of (L(x + δ·s·v) − L(x − δ·s·v))/(2δ)·v, the gradient with respect to u where x = s·u (with s = 1,
    /// the ordinary gradient). <paramref name="loss"/> maps a sample-major stack [n·B,…] to per-image losses [n·B].
    /// </summary>
    internal static Tensor EstimateGradient(Func<Tensor, Tensor> loss, Tensor x, int samples, double delta, Tensor? scale, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var batch = x.shape[0];
        var perImage = x.shape.Skip(1).ToArray();
        var chunk = (int)Math.Max(1, Math.Min(samples, MaxProbeElements / (2 * x.numel())));
        var sum = torch.zeros_like(x);
        for (var done = 0; done < samples; done += chunk)
        {
            using var chunkScope = torch.NewDisposeScope();
            var n = Math.Min(chunk, samples - done);
            var shape = new[] { (long)n, batch }.Concat(perImage).ToArray();
            var v = SeededDraws.Randint(0, 2, shape, generator, x.dtype, x.device).mul_(2).sub_(1);
            var offset = scale is null ? v.mul(delta) : v.mul(scale).mul_(delta);
            var probes = torch.cat(new[] { x.unsqueeze(0) + offset, x.unsqueeze(0) - offset }).reshape(new[] { 2L * n * batch }.Concat(perImage).ToArray());
            var losses = loss(probes).reshape(2, n, batch);
            var slopes = (losses[0] - losses[1]).div_(2 * delta).reshape(new[] { (long)n, batch }.Concat(perImage.Select(_ => 1L)).ToArray());
            AttackLosses.Replace(ref sum, sum.add(v.mul(slopes).sum(new long[] { 0 })));
        }
        return sum.div_(samples).MoveToOuterDisposeScope();
    }
}
