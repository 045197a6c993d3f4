using StatFormer.Options;
using StatFormer.Training;
using StatFormer.Vision.Data;
using StatFormer.Vision.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// Accuracy and calibration of a classifier on corrupted copies of a fixed, class-stratified subset of the test images
/// (every corruption and severity asked for), and max-softmax OOD detection of the most severe corruptions (and, for
/// 3 × 32 × 32 models, of padded MNIST digits) against the clean subset: our stand-in for ImageNet-C / -A / -O.
/// The subset and every corruption's draws depend only on <see cref="CorruptionOptions.Seed"/>, so every model sees the
/// very same corrupted images.
/// </summary>
public static class CorruptionEvaluation
{
    /// <exception cref="ArgumentException">ParamName is the offending option's name (<see cref="CorruptionOptions.ValidateFor"/>).</exception>
    public static CorruptionResult Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset test, CorruptionOptions options, int batchSize,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateFor(test);
        var set = CorruptionSets.For(test.Channels);
        var kinds = options.Resolve(set);
        var severities = options.ResolveSeverities(set);
        var indices = Subset(test, options);
        var count = indices.Length;
        using var index = torch.tensor(indices);
        var (images, labels) = test.Batch(index);
        using var _ = images;
        using var __ = labels;
        var clean = Score(model, images, labels, batchSize);
        var curves = new List<CorruptionCurve>();
        var ood = new List<OodDetection>();
        var mostSevere = new List<double>();
        foreach (var kind in kinds)
        {
            var points = new List<SeverityResult>();
            foreach (var severity in severities)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var generator = ImageCorruptions.GeneratorFor(options.Seed, set, kind, severity);
                using var corrupted = ImageCorruptions.Apply(set, kind, severity, images, generator);
                var scored = Score(model, corrupted, labels, batchSize);
                points.Add(new SeverityResult(severity, scored.Accuracy, scored.Ece));
                if (severity == severities[^1])
                {
                    ood.Add(new OodDetection($"{EnumNames.Cli(kind)}-{severity}", count, count, Calibration.Auroc(clean.Confidences, scored.Confidences)));
                    mostSevere.AddRange(scored.Confidences);
                }
            }
            curves.Add(new CorruptionCurve(EnumNames.Cli(kind), set == CorruptionSet.Cifar10C && CorruptionSets.Cifar10CExtras.Contains(kind), points));
        }
        if (kinds.Count > 1)
            ood.Insert(0, new OodDetection($"all-{severities[^1]}", count, mostSevere.Count, Calibration.Auroc(clean.Confidences, mostSevere)));
        if (options.OodMnistPath is { } mnistPath)
            ood.Add(MnistOod(model, test, mnistPath, count, options.Seed, clean.Confidences, batchSize));
        var leftOut = CorruptionSets.Members(set).Where(k => CorruptionSets.LeftOut(set, k) is not null)
            .Select(k => new LeftOutCorruption(EnumNames.Cli(k), CorruptionSets.LeftOut(set, k)!)).ToList();
        var all = curves.SelectMany(c => c.Severities).ToList();
        return new CorruptionResult(EnumNames.Cli(set), count, options.Seed, clean.Accuracy, clean.Ece, curves,
            all.Count > 0 ? all.Average(p => p.Accuracy) : null, all.Count > 0 ? all.Average(p => p.Ece) : null, leftOut, ood);
    }

    /// <summary>
    /// MNIST's test digits (a class-stratified subset of <paramref name="count"/>) as a shifted set for a 3 × 32 × 32
    /// colour model: each 28 × 28 digit zero-padded by 2 on every side and repeated over the three channels.
    /// </summary>
    private static OodDetection MnistOod(nn.Module<Tensor, Tensor> model, ImageDataset test, string folder, int count, int seed,
        IReadOnlyList<double> cleanConfidences, int batchSize)
    {
        using var mnist = MnistLoader.Load(folder);
        var indices = StratifiedSampling.Subset(mnist.Test.Labels.data<long>().ToArray(), mnist.Test.Classes, (int)Math.Min(count, mnist.Test.Count), seed, "vision-ood-mnist");
        using var index = torch.tensor(indices);
        var (digits, digitLabels) = mnist.Test.Batch(index);
        using var _ = digits;
        using var __ = digitLabels;
        using var padded = nn.functional.pad(digits, [2, 2, 2, 2]).expand(-1, 3, -1, -1).contiguous();
        var confidences = Confidences(model, padded, batchSize);
        return new OodDetection("mnist", cleanConfidences.Count, confidences.Count, Calibration.Auroc(cleanConfidences, confidences));
    }

    private sealed record Scores(double Accuracy, double Ece, IReadOnlyList<double> Confidences);

    /// <summary>Accuracy, ECE and the max-softmax confidence per image, in eval mode and batches of <paramref name="batchSize"/>.</summary>
    private static Scores Score(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, int batchSize)
    {
        var (confidences, predictions) = Predict(model, images, batchSize);
        var truth = labels.data<long>().ToArray();
        var correct = predictions.Select((p, i) => p == truth[i]).ToArray();
        return new Scores(correct.Count(c => c) / (double)correct.Length, Calibration.ExpectedCalibrationError(confidences, correct), confidences);
    }

    private static IReadOnlyList<double> Confidences(nn.Module<Tensor, Tensor> model, Tensor images, int batchSize) => Predict(model, images, batchSize).Confidences;

    private static (double[] Confidences, long[] Predictions) Predict(nn.Module<Tensor, Tensor> model, Tensor images, int batchSize)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            var n = images.shape[0];
            var confidences = new List<double>();
            var predictions = new List<long>();
            using var noGrad = torch.no_grad();
            var device = DeviceChoice.DeviceOf(model);   // corruptions are computed on the CPU; the batch goes where the model is
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var logits = model.forward(images.narrow(0, start, Math.Min(batchSize, n - start)).to(device));
                var (top, argmax) = nn.functional.softmax(logits.to_type(ScalarType.Float64), 1).max(1);
                confidences.AddRange(top.cpu().data<double>().ToArray());
                predictions.AddRange(argmax.cpu().data<long>().ToArray());
            }
            return (confidences.ToArray(), predictions.ToArray());
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The test images corrupted: a class-stratified subset of <see cref="CorruptionOptions.MaxImages"/> drawn from the options' seed (sorted test order).</summary>
    public static long[] Subset(ImageDataset test, CorruptionOptions options)
    {
        var count = (int)Math.Min(options.MaxImages ?? int.MaxValue, test.Count);
        return StratifiedSampling.Subset(test.Labels.data<long>().ToArray(), test.Classes, count, options.Seed, "vision-corruption-images");
    }
}

/// <summary>
/// A model on corrupted test images: the subset's size and seed, its clean accuracy and ECE, per corruption and severity
/// the accuracy and ECE, their means over every (corruption, severity) evaluated, the set's corruptions that are not
/// built (with the reason), and the max-softmax OOD detection AUROCs (clean subset = in distribution).
/// </summary>
public sealed record CorruptionResult(string Set, int Images, int Seed, double CleanAccuracy, double CleanEce, IReadOnlyList<CorruptionCurve> Corruptions,
    double? MeanAccuracy, double? MeanEce, IReadOnlyList<LeftOutCorruption> LeftOut, IReadOnlyList<OodDetection> Ood);

/// <param name="Extra">One of CIFAR-10-C's four extras (speckle noise, Gaussian blur, spatter, saturate): reported, not in the mCE.</param>
public sealed record CorruptionCurve(string Corruption, bool Extra, IReadOnlyList<SeverityResult> Severities);

public sealed record SeverityResult(int Severity, double Accuracy, double Ece);

public sealed record LeftOutCorruption(string Corruption, string Reason);

/// <summary>Max-softmax OOD detection: AUROC of the clean subset (in distribution, higher score expected) against <paramref name="Shifted"/>.</summary>
/// <param name="Shifted">"fog-5" (one corruption at the highest severity evaluated), "all-5" (all of them pooled) or "mnist".</param>
public sealed record OodDetection(string Shifted, int InImages, int OutImages, double Auroc);
