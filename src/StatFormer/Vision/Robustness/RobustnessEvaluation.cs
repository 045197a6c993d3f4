using System.Globalization;
using StatFormer.Data;
using StatFormer.Options;
using StatFormer.Training;
using StatFormer.Vision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// Robust accuracy of an image classifier under a list of attacks and an ε sweep, the worst case over the list and
/// the gap between gradient and gradient-free attacks.
/// </summary>
/// <remarks>
/// Every attack runs on every image, so that each curve is that attack's own accuracy; the worst case is the logical
/// AND of the per-attack "still correct" masks, which is the number AutoAttack's cascade (each attack only on the points
/// still correct) gives. Random draws come from <see cref="AttackSeed"/>, a function of (seed, attack, ε, batch), so
/// every model compared sees the same draws and a rerun gives the same numbers.
/// </remarks>
public static class RobustnessEvaluation
{
    /// <summary>Sets eval mode for the run and restores the model's mode afterwards.</summary>
    public static RobustnessResult Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data, AttackOptions options, ChannelNormalization normalization,
        IProgress<RobustnessProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        Check(data, options, normalization);
        if (data.Count == 0) throw new ArgumentException("the dataset has no images", nameof(data));
        var subset = AttackedImages(data, options);
        var images = subset.Length;
        var attacks = options.Attacks.Select(kind => (Kind: kind, Attack: ImageAttacks.Create(kind, options))).ToArray();
        var epsilons = options.Epsilons;
        var correct = new long[attacks.Length, epsilons.Count];
        var worstCorrect = new long[epsilons.Count];
        long cleanCorrect = 0;
        var batches = (images + options.BatchSize - 1) / options.BatchSize;

        var device = DeviceChoice.DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            for (var batch = 0; batch < batches; batch++)
            {
                using var batchScope = torch.NewDisposeScope();
                var start = batch * options.BatchSize;
                var count = Math.Min(options.BatchSize, images - start);
                using var index = torch.tensor(subset[start..(start + count)], device: data.Pixels.device);
                var (x, y) = data.Batch(index, device);
                var cleanPrediction = Predict(model, x);
                cleanCorrect += cleanPrediction.eq(y).sum().item<long>();
                var attackLabels = options.Labels == AttackLabels.Prediction ? cleanPrediction : y;
                for (var e = 0; e < epsilons.Count; e++)
                {
                    using var epsilonScope = torch.NewDisposeScope();
                    var stillCorrect = torch.ones(count, dtype: ScalarType.Bool, device: x.device);
                    for (var a = 0; a < attacks.Length; a++)
                    {
                        ct.ThrowIfCancellationRequested();
                        using var attackScope = torch.NewDisposeScope();
                        var (kind, attack) = attacks[a];
                        var threat = ImageAttacks.Threat(kind, epsilons[e], options, normalization);
                        using var generator = new Generator((ulong)AttackSeed(options.Seed, kind, epsilons[e], batch));
                        var adversarial = attack.Perturb(model, x, attackLabels, threat, generator);
                        var right = Predict(model, adversarial).eq(y);
                        correct[a, e] += right.sum().item<long>();
                        AttackLosses.Replace(ref stillCorrect, stillCorrect.logical_and(right));
                        progress?.Report(new RobustnessProgress(batch + 1, batches, attack.Name, epsilons[e], start + count, images));
                    }
                    worstCorrect[e] += stillCorrect.sum().item<long>();
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        double Accuracy(long hits) => (double)hits / images;
        var curves = attacks.Select((entry, a) => new AttackCurve(entry.Attack.Name, entry.Attack.GradientFree,
            epsilons.Select((eps, e) => new EpsilonAccuracy(eps, Accuracy(correct[a, e]))).ToArray())).ToArray();
        var worst = options.WorstCase ? epsilons.Select((eps, e) => new EpsilonAccuracy(eps, Accuracy(worstCorrect[e]))).ToArray() : null;
        var gaps = new List<GradientFreeGap>();
        if (curves.Any(c => c.GradientFree) && curves.Any(c => !c.GradientFree))
            for (var e = 0; e < epsilons.Count; e++)
                gaps.Add(new GradientFreeGap(epsilons[e],
                    curves.Where(c => !c.GradientFree).Min(c => c.Points[e].RobustAccuracy),
                    curves.Where(c => c.GradientFree).Min(c => c.Points[e].RobustAccuracy)));
        return new RobustnessResult(Accuracy(cleanCorrect), images, curves, worst, gaps);
    }

    /// <summary>
    /// The first <paramref name="count"/> images of <see cref="AttackedImages"/> attacked by <paramref name="kind"/> at <paramref name="epsilon"/>, as one
    /// batch with the generator of batch 0: with <paramref name="count"/> = the batch size, exactly what the first batch
    /// of <see cref="Evaluate"/> attacks. Sets eval mode and restores the model's mode.
    /// </summary>
    public static AdversarialExamples Examples(nn.Module<Tensor, Tensor> model, ImageDataset data, AttackKind kind, double epsilon, int count,
        AttackOptions options, ChannelNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        Check(data, options, normalization);
        var subset = AttackedImages(data, options);
        if (count < 1 || count > subset.Length) throw new ArgumentException($"must be in [1, {subset.Length}] (got {count})", nameof(count));
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = torch.NewDisposeScope();
            using var index = torch.tensor(subset[..count], device: data.Pixels.device);
            var (x, y) = data.Batch(index, DeviceChoice.DeviceOf(model));
            var cleanPrediction = Predict(model, x);
            var attack = ImageAttacks.Create(kind, options);
            var threat = ImageAttacks.Threat(kind, epsilon, options, normalization);
            using var generator = new Generator((ulong)AttackSeed(options.Seed, kind, epsilon, 0));
            var adversarial = attack.Perturb(model, x, options.Labels == AttackLabels.Prediction ? cleanPrediction : y, threat, generator);
            var adversarialPrediction = Predict(model, adversarial);
            return new AdversarialExamples(attack.Name, epsilon, x.MoveToOuterDisposeScope(), adversarial.MoveToOuterDisposeScope(),
                y.MoveToOuterDisposeScope(), cleanPrediction.MoveToOuterDisposeScope(), adversarialPrediction.MoveToOuterDisposeScope());
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// The indices of the images attacked, in dataset order: all of them, or a class-stratified subset of
    /// <see cref="AttackOptions.MaxImages"/> drawn under the attack seed — a prefix would be one class in a dataset stored
    /// class by class, as image folders are.
    /// </summary>
    public static long[] AttackedImages(ImageDataset data, AttackOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        var count = (int)Math.Min(data.Count, options.MaxImages ?? long.MaxValue);
        return StratifiedSampling.Subset(data.Labels.data<long>().ToArray(), data.Classes, count, options.Seed, "vision-attack-images");
    }

    /// <summary>
    /// The seed of an attack's generator for one batch: <see cref="Seeds.ForStep"/> of the stream named after the attack
    /// and ε (round-trip formatted) under <paramref name="seed"/>, step = batch index. It depends on ε's value, not its
    /// position in the sweep, so adding an ε leaves the others' numbers unchanged.
    /// </summary>
    public static int AttackSeed(int seed, AttackKind kind, double epsilon, int batch) =>
        Seeds.ForStep(Seeds.ForName(seed, $"attack:{EnumNames.Cli(kind)}:eps={epsilon.ToString("R", CultureInfo.InvariantCulture)}"), batch);

    private static Tensor Predict(nn.Module<Tensor, Tensor> model, Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return AttackLosses.Logits(model, images).argmax(1).MoveToOuterDisposeScope();
    }

    private static void Check(ImageDataset data, AttackOptions options, ChannelNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(normalization);
        options.Validate();
        normalization.Validate();
        if (normalization.Channels != data.Channels)
            throw new ArgumentException($"the normalisation has {normalization.Channels} channels but the images have {data.Channels}", nameof(normalization));
    }
}
