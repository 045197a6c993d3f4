using System.Diagnostics;
using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.Data;
using StatFormer.Interop;
using StatFormer.IO;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Training;
using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Data;
using StatFormer.Vision.Evaluation;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Experiments;

/// <summary>
/// One image-classifier run end to end: build the model from the data's shape, train it with the project's
/// <see cref="Trainer"/> (AdamW, warm-up + cosine, label smoothing, optional PGD adversarial training; checkpoints and
/// bit-exact resume), then measure clean accuracy, robust accuracy under the attacks and the per-layer diagnostics, and
/// write summary.json and the plots next to the trainer's metrics.jsonl and checkpoint.bin.
/// <para>
/// Every random stream is a function of the seed and the step: the batch order (a permutation per epoch, stream =
/// epoch), the augmentation and the adversarial start (<see cref="Seeds.ForStep"/> of named streams), dropout and
/// drop-path (the torch generator, checkpointed). So a resumed run continues exactly, and every variant of a comparison
/// sees the same batches and augmentations. There is no validation split: the final weights are reported.
/// </para>
/// </summary>
public static class VisionExperiment
{
    public const string SummaryFileName = RunFolder.SummaryFileName;
    public const string LearningCurveFileName = "learning_curve.png";
    public const string RobustnessFileName = "robust_accuracy.png";

    /// <summary>The trainer's options: <see cref="VisionRunOptions.Train"/> with the warm-up capped at the run and about 20 train records.</summary>
    public static TrainOptions TrainOptions(VisionRunOptions options) => options.Train with
    {
        WarmupSteps = Math.Min(options.Train.WarmupSteps, options.Train.Steps),
        LogEvery = Math.Max(1, Math.Min(10, options.Train.Steps / 20)),
    };

    /// <summary>The model spec of <paramref name="options"/> for the images of <paramref name="train"/>.</summary>
    /// <exception cref="ArgumentException">ParamName is the offending property's path (<c>Model.…</c>).</exception>
    public static VisionModelSpec Spec(VisionRunOptions options, ImageDataset train) =>
        VisionModelSpec.For(options.Model, train.Channels, train.Height, train.Width, train.Classes);

    /// <param name="data">The images when the caller already loaded them (a comparison loads them once); the caller keeps ownership.</param>
    /// <param name="device">Where the model trains and is evaluated (default: the CPU). It is initialised on the CPU first, so a seed gives the
    /// same initial weights everywhere; the images stay on the CPU and each batch is augmented there and then moved.</param>
    public static VisionRunSummary Run(VisionRunOptions options, IProgress<TrainingProgress>? progress = null, ImageSplits? data = null,
        CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Before any loading: a second process on the same folder fails at once.
        using var folder = RunFolder.Claim(options.Output.OutDir, RunFolderKind.Run, options.Output.Resume, options.Output.Overwrite);
        var clock = Stopwatch.StartNew();
        var owns = data is null;
        data ??= VisionData.Load(options.Data, null, cancellationToken);
        try
        {
            return RunOn(options, data, progress, clock, device ?? CPU, cancellationToken);
        }
        finally
        {
            if (owns) data.Dispose();
        }
    }

    private static VisionRunSummary RunOn(VisionRunOptions options, ImageSplits data, IProgress<TrainingProgress>? progress, Stopwatch clock,
        Device device, CancellationToken cancellationToken)
    {
        var train = data.Train;
        var spec = Spec(options, train);
        var seed = options.Train.Seed;
        var batchSize = options.Data.BatchSize;
        OptionCheck.Require(batchSize <= train.Count, $"{nameof(VisionRunOptions.Data)}.{nameof(VisionDataOptions.BatchSize)}",
            $"{batchSize} is larger than the training set ({train.Count} images)");

        // Before training: corruptions the images' set lacks fail now, not after the run.
        CheckCorruptions(options, data.Test);
        torch.manual_seed(seed);
        using var model = VisionModels.Create(spec);
        // Fine-tuning starts from a state dict whose names and shapes must fit; a resumed run replaces these weights with its checkpoint's.
        if (options.InitFrom is { } initFrom) ModelWeights.Load(model, initFrom);
        model.to(device);
        var metadata = new VisionRunMetadata(spec, options with { Output = options.Output.Recorded });
        if (options.Output.Resume) VisionRunMetadata.EnsureSameRun(options.Output.OutDir, metadata);

        var batches = new EpochBatches(train.Count, batchSize, seed);
        var trainer = new Trainer(model, TrainOptions(options), step => StepLoss(model, train, options, batches.At(step), step, device), null,
            options.Output.OutDir, metadata.ToJson())
        { Diagnostics = model is VisionTransformer vit ? new VisionTrainingDiagnostics(vit, train, batchSize) : null };
        var trainClock = Stopwatch.StartNew();
        var training = trainer.Run(progress, options.Output.Resume, cancellationToken);
        var trainSeconds = trainClock.Elapsed.TotalSeconds;

        var evalClock = Stopwatch.StartNew();
        var result = Evaluate(model, spec, data.Test, options, cancellationToken);
        var evalSeconds = evalClock.Elapsed.TotalSeconds;

        var summary = new VisionRunSummary
        {
            Variant = VariantName(model, spec, options.Eval.Estimator), Architecture = EnumNames.Cli(spec.Model.Architecture),
            TrainEstimator = EstimatorName(model, null), EvalEstimator = EstimatorName(model, options.Eval.Estimator),
            Data = train.Source, Classes = train.Classes, ImageShape = [train.Channels, train.Height, train.Width],
            TrainImages = train.Count, TestImages = data.Test.Count, Params = VisionModels.ParameterCount(model),
            Steps = training.StepsCompleted, Seed = seed, FinalTrainLoss = training.FinalTrainLoss,
            CleanAccuracy = result.Clean.Accuracy, CleanLoss = result.Clean.Loss, Robustness = result.Robustness, Layers = result.Layers, Routing = result.Routing, Corruption = result.Corruption,
            AdversarialTraining = options.Adversarial.Enabled, ImagesPerSecond = training.Throughput,
            WallSeconds = clock.Elapsed.TotalSeconds, TrainSeconds = trainSeconds, EvalSeconds = evalSeconds,
            Spec = spec, Options = options with { Output = options.Output.Recorded },
        };
        JsonOutput.WriteFile(Path.Combine(options.Output.OutDir, SummaryFileName), summary);
        VisionPlots.LearningCurve(Path.Combine(options.Output.OutDir, LearningCurveFileName), summary.Variant, training.History);
        VisionPlots.RobustAccuracy(Path.Combine(options.Output.OutDir, RobustnessFileName), $"Robust accuracy ({summary.Variant}, seed {seed})",
            [(summary.Variant, result.Robustness)]);
        return summary;
    }

    /// <summary>What a trained model measures: clean accuracy (whole test set), the attacks (Eval.Attack), per-layer diagnostics (ViT), routing diagnostics (MoE ViT, whole test set) and, when asked for, the corruptions (Eval.Corruption).</summary>
    public static VisionEvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, VisionModelSpec spec, ImageDataset test, VisionRunOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        CheckCorruptions(options, test);
        var trained = (model as VisionTransformer)?.Estimator;
        if (options.Eval.Estimator is { } estimator && model is VisionTransformer { Estimator: not null } switched) switched.Estimator = estimator;
        try
        {
            var clean = VisionEvaluation.Clean(model, test, options.Data.BatchSize);
            var robustness = RobustnessEvaluation.Evaluate(model, test, options.Eval.Attack, spec.Normalization, null, cancellationToken);
            var layers = model is VisionTransformer vit
                ? VisionEvaluation.Layers(vit, test, options.Eval.DiagnosticImages, options.Data.BatchSize)
                : [];
            var routing = model is VisionTransformer moe ? VisionEvaluation.Routing(moe, test, options.Data.BatchSize) : null;
            var corruption = options.Eval.Corruption.Enabled
                ? CorruptionEvaluation.Evaluate(model, test, options.Eval.Corruption, options.Data.BatchSize, cancellationToken) : null;
            return new VisionEvaluationResult(clean, robustness, layers, routing, corruption);
        }
        finally
        {
            if (trained is { } original && model is VisionTransformer restored) restored.Estimator = original;
        }
    }

    private static void CheckCorruptions(VisionRunOptions options, ImageDataset test) =>
        OptionCheck.Nested(nameof(VisionRunOptions.Eval), () => OptionCheck.Nested(nameof(VisionEvalOptions.Corruption), () => options.Eval.Corruption.ValidateFor(test)));

    /// <summary>softmax, elliptical, resnet18; an elliptical model evaluated with another estimator than it was trained with gets its name as a suffix (elliptical-median).</summary>
    public static string VariantName(nn.Module model, VisionModelSpec spec, EllipticalEstimator? evalEstimator) =>
        model is VisionTransformer { Estimator: { } trained } && evalEstimator is { } other && other != trained
            ? $"{spec.Model.VariantName}-{EnumNames.Cli(other)}" : spec.Model.VariantName;

    private static string EstimatorName(nn.Module model, EllipticalEstimator? requested) =>
        model is VisionTransformer { Estimator: { } trained } ? EnumNames.Json(requested ?? trained) : "none";

    /// <summary>One update: the step's batch, augmented, optionally replaced by its PGD perturbation, its label-smoothed cross-entropy and (MoE ViT) the balance loss.</summary>
    private static StepLoss StepLoss(nn.Module<Tensor, Tensor> model, ImageDataset train, VisionRunOptions options, long[] indices, long step, Device device)
    {
        // Augmented on the CPU with a CPU generator (the same draws on every device), then moved.
        var (images, labels) = train.Batch(torch.tensor(indices, dtype: ScalarType.Int64, device: CPU));
        if (options.Data.Augment.Enabled)
        {
            using var generator = new Generator((ulong)Seeds.ForStep(Seeds.ForName(options.Train.Seed, "vision-augmentation"), step));
            images = VisionAugmentation.Apply(images, options.Data.Augment, generator);
        }
        images = images.to(device);
        labels = labels.to(device);
        if (options.Adversarial.Enabled) images = AdversarialBatch(model, images, labels, options, step);
        // An MoE ViT's weighted load-balancing loss joins the gradient as the LM's does (the Trainer adds it).
        var (logits, balance) = model is IAuxiliaryLossModel withAux ? withAux.Run(images) : (model.forward(images), null);
        var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: options.LabelSmoothing);
        return new StepLoss(loss, balance, indices.Length);
    }

    /// <summary>Madry's inner maximisation: L∞ PGD in pixel units against the true labels, with the model in eval mode (no dropout, no drop-path).</summary>
    private static Tensor AdversarialBatch(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, VisionRunOptions options, long step)
    {
        var adversarial = options.Adversarial;
        var attack = new PgdAttack(adversarial.Steps, adversarial.StepFraction, restarts: 1, randomStart: true);
        using var generator = new Generator((ulong)Seeds.ForStep(Seeds.ForName(options.Train.Seed, "vision-adversarial-training"), step));
        model.eval();
        try
        {
            return attack.Perturb(model, images, labels, new ThreatModel(ThreatNorm.LInf, adversarial.Epsilon), generator).detach();
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>
    /// Batches of one epoch: consecutive slices of a permutation of the training images drawn from (seed, epoch), the
    /// last incomplete batch dropped. Deterministic in the step, so a resumed run sees the same batches.
    /// </summary>
    private sealed class EpochBatches(long count, int batchSize, int seed)
    {
        private readonly long _stepsPerEpoch = count / batchSize;
        private long _epoch = -1;
        private long[] _order = [];

        public long[] At(long step)
        {
            var epoch = step / _stepsPerEpoch;
            if (epoch != _epoch)
            {
                _order = Enumerable.Range(0, (int)count).Select(i => (long)i).ToArray();
                new Random(Seeds.ForStream(seed, epoch)).Shuffle(_order);
                _epoch = epoch;
            }
            var offset = (int)(step % _stepsPerEpoch) * batchSize;
            return _order.AsSpan(offset, batchSize).ToArray();
        }
    }
}

/// <summary>What <see cref="VisionExperiment.Evaluate"/> measures.</summary>
/// <param name="Routing">MoE ViT: the routing diagnostics on the whole test set (<see cref="VisionEvaluation.Routing"/>); null for dense models.</param>
/// <param name="Corruption">The corruption evaluation (<see cref="CorruptionEvaluation"/>); null when off.</param>
/// <param name="CorruptionErrors">CE / mCE against a reference model (`vision eval --reference-run`); null otherwise.</param>
public sealed record VisionEvaluationResult(CleanEvaluation Clean, RobustnessResult Robustness, IReadOnlyList<VisionLayerDiagnostics> Layers, MoeDiagnostics? Routing = null,
    CorruptionResult? Corruption = null, CorruptionErrorResult? CorruptionErrors = null);
