using System.Diagnostics;
using StatFormer.Contrastive;
using StatFormer.Data;
using StatFormer.Fairness.Data;
using StatFormer.Fairness.Evaluation;
using StatFormer.Fairness.Models;
using StatFormer.IO;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// One fair contrastive run end to end (spec §4): build encoder, projection head and loss; train them with the
/// project's <see cref="Trainer"/> (resumable bit-exactly); freeze the encoder and read its representation (before the
/// projection head) of un-augmented train and test samples; fit linear probes for the target and for z; write
/// summary.json, a loss curve and a 2-D PCA of the test representations into the run folder, next to the trainer's
/// metrics.jsonl and checkpoint.bin.
/// <para>
/// There is no validation split in this protocol, so the run is reported at its final epoch (spec §7 Q10) and the
/// per-epoch training loss is logged (metrics.jsonl has one record per log window, <see cref="FairRunSummary.EpochTrainLoss"/>
/// the epoch means).
/// </para>
/// </summary>
public static class FairExperiment
{
    public const string SummaryFileName = RunFolder.SummaryFileName;
    public const string LossCurveFileName = "loss_curve.png";
    public const string EmbeddingPlotFileName = "embedding.png";

    /// <summary>Images: the encoder's input size (RandomResizedCrop to it for training, Resize to it for evaluation).</summary>
    public const int ImageSize = LeNetEncoder.InputSize;

    /// <summary>Loads the dataset <paramref name="options"/> names, checking first that its files exist under Data.DataDir.</summary>
    public static FairDataset LoadData(FairRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        switch (options.Data.Dataset)
        {
            case FairRunOptions.Synthetic:
                return SyntheticFairData.Create(options.Data.DataSeed);
            case FairRunOptions.ColorMnist:
            {
                var dir = RequireFiles(options, "mnist", "ColorMNIST", ColorMnist.MnistFiles);
                return ColorMnist.Load(dir, options.Data.DataSeed);
            }
            case FairRunOptions.Adult:
            {
                var dir = RequireFiles(options, "adult", "Adult", ["adult.data", "adult.test"]);
                return TabularFairData.LoadAdult(dir, FairRunOptions.ParseSensitive(options.Data.Sensitive));
            }
            case FairRunOptions.Compas:
            {
                var dir = RequireFiles(options, "compas", "COMPAS", ["compas-scores-two-years.csv"]);
                return TabularFairData.LoadCompas(dir, FairRunOptions.ParseSensitive(options.Data.Sensitive), options.Data.DataSeed);
            }
            default:
                throw new ArgumentException($"'{options.Data.Dataset}' is not one of: {string.Join(", ", FairRunOptions.DataNames)}", nameof(FairRunOptions.Data) + "." + nameof(FairDataOptions.Dataset));
        }
    }

    private static string RequireFiles(FairRunOptions options, string subfolder, string dataset, IReadOnlyList<string> files)
    {
        var dir = Path.Combine(options.Data.DataDir, subfolder);
        foreach (var file in files)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path))
                throw new ArgumentException(
                    $"{options.Data.DataDir}: {dataset} needs {path}, which does not exist (expected {string.Join(", ", files)} in {dir})", nameof(FairRunOptions.Data) + "." + nameof(FairDataOptions.DataDir));
        }
        return dir;
    }

    /// <summary>What z is called in summaries.</summary>
    public static string SensitiveLabel(FairRunOptions options) => options.Data.Dataset switch
    {
        FairRunOptions.ColorMnist => "background_rgb",
        FairRunOptions.Synthetic => "z_disc",
        _ => string.Join(",", new[] { "sex", "race" }.Where(a =>
            FairRunOptions.ParseSensitive(options.Data.Sensitive).HasFlag(a == "sex" ? SensitiveAttribute.Sex : SensitiveAttribute.Race))),
    };

    /// <summary>
    /// The train samples a run uses: all, or a subset of <see cref="FairRunOptions.TrainLimit"/> drawn by the data seed
    /// (the same subset for every method and seed of a comparison). Sorted.
    /// </summary>
    public static long[] TrainIndices(FairRunOptions options, int trainCount) => Subsample(trainCount, options.Data.TrainLimit, options.Data.DataSeed, 1);

    /// <summary>The test samples a run evaluates on (see <see cref="TrainIndices"/>).</summary>
    public static long[] TestIndices(FairRunOptions options, int testCount) => Subsample(testCount, options.Data.TestLimit, options.Data.DataSeed, 2);

    public static int StepsPerEpoch(FairRunOptions options, int trainSamples)
    {
        var steps = trainSamples / options.Train.BatchSize;
        if (steps < 1)
            throw new ArgumentException($"{options.Train.BatchSize} is larger than the training set ({trainSamples} samples; see Data.TrainLimit)", nameof(FairRunOptions.Train) + "." + nameof(FairTrainOptions.BatchSize));
        return steps;
    }

    /// <summary>The trainer's settings for a run of <paramref name="stepsPerEpoch"/> updates per epoch (see <see cref="FairRunOptions"/> for the recipe).</summary>
    public static TrainOptions TrainOptions(FairRunOptions options, int stepsPerEpoch)
    {
        var steps = options.Train.Epochs * stepsPerEpoch;
        return new TrainOptions
        {
            Steps = steps,
            LearningRate = options.Train.LearningRate, MinLearningRate = 0,
            WarmupSteps = Math.Min(options.Train.WarmupEpochs * stepsPerEpoch, steps / 10),
            WeightDecay = options.Train.WeightDecay, Beta1 = 0.9, Beta2 = 0.999, GradClip = options.Train.GradClip,
            EvalEvery = 0, CheckpointEvery = stepsPerEpoch, Seed = options.Train.Seed, LogEvery = LogInterval(stepsPerEpoch),
        };
    }

    /// <summary>
    /// Steps per log record: the smallest divisor of the epoch length giving at most 10 records per epoch, so that
    /// records never straddle epochs and an epoch's mean loss is the mean of its records.
    /// </summary>
    internal static int LogInterval(int stepsPerEpoch)
    {
        for (var d = 1; d <= stepsPerEpoch; d++)
            if (stepsPerEpoch % d == 0 && stepsPerEpoch / d <= 10) return d;
        return stepsPerEpoch;
    }

    /// <summary>Builds encoder (LeNet for images, MLP for tabular), projection head and loss, initialised from the torch generator.</summary>
    public static FairContrastiveModel BuildModel(FairRunOptions options, FairDataset data)
    {
        nn.Module<Tensor, Tensor> encoder;
        int representationDim;
        if (data.Kind == FairInputKind.Image)
        {
            var lenet = new LeNetEncoder();
            (encoder, representationDim) = (lenet, lenet.OutputDim);
        }
        else
        {
            var mlp = new MlpEncoder(data.Train.InputDim, options.Model.MlpHidden, options.Model.MlpOutput);
            (encoder, representationDim) = (mlp, mlp.OutputDim);
        }
        ContrastiveLoss? loss = null;
        OptionCheck.Nested(nameof(FairRunOptions.Loss), () => loss = ContrastiveLossFactory.Create(options.Model.Method, options.Loss, data.SensitiveDim));
        return new FairContrastiveModel(encoder, representationDim, new ProjectionHead(representationDim, options.Model.ProjectionDim), loss!);
    }

    public static FairRunMetadata Metadata(FairRunOptions options, FairDataset data) => new(
        data.Name, SensitiveLabel(options), options.Data.DataSeed, options.Data.TrainLimit, EnumNames.Cli(options.Model.Method),
        data.Kind == FairInputKind.Image ? "lenet" : $"mlp {data.Train.InputDim}-{options.Model.MlpHidden}-{options.Model.MlpHidden}-{options.Model.MlpOutput}",
        options.Model.ProjectionDim, options.Train.BatchSize, options.Train.Seed, options.Loss);

    /// <param name="data">The dataset when the caller already loaded it (a comparison loads it once); it must be the one
    /// <paramref name="options"/> names, and the caller keeps ownership.</param>
    /// <param name="device">Where the model trains and is evaluated (default: the CPU); it is initialised on the CPU first. The data and its
    /// augmentation stay on the CPU (the same draws on every device); each batch is moved, and the probes fit on the CPU.</param>
    public static FairRunSummary Run(FairRunOptions options, IProgress<TrainingProgress>? progress = null, FairDataset? data = null,
        CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Before any loading: a second process on the same folder fails at once.
        using var folder = RunFolder.Claim(options.Output.OutDir, RunFolderKind.Run, options.Output.Resume, options.Output.Overwrite);
        var clock = Stopwatch.StartNew();
        var ownsData = data is null;
        data ??= LoadData(options);
        try
        {
            if (data.Name != options.Data.Dataset)
                throw new ArgumentException($"the dataset passed is {data.Name}, the options name {options.Data.Dataset}", nameof(data));
            return RunOn(options, data, progress, clock, device ?? CPU, cancellationToken);
        }
        finally
        {
            if (ownsData) data.Dispose();
        }
    }

    private static FairRunSummary RunOn(FairRunOptions options, FairDataset data, IProgress<TrainingProgress>? progress, Stopwatch clock,
        Device device, CancellationToken cancellationToken)
    {
        var trainIndices = TrainIndices(options, data.Train.Count);
        var stepsPerEpoch = StepsPerEpoch(options, trainIndices.Length);
        var trainOptions = TrainOptions(options, stepsPerEpoch);

        torch.manual_seed(options.Train.Seed);
        using var model = BuildModel(options, data);
        model.to(device);
        var metadata = Metadata(options, data);
        if (options.Output.Resume) FairRunMetadata.EnsureSameRun(options.Output.OutDir, metadata);

        var batches = new EpochBatches(trainIndices, options.Train.BatchSize, stepsPerEpoch, options.Train.Seed);
        var trainer = new Trainer(model, trainOptions, step => TrainStep(model, data, options, batches.At(step), device), null, options.Output.OutDir, metadata.ToJson());
        var trainClock = Stopwatch.StartNew();
        var training = trainer.Run(progress, options.Output.Resume, cancellationToken);
        var trainSeconds = trainClock.Elapsed.TotalSeconds;
        var epochLoss = EpochLosses(training.History, stepsPerEpoch, options.Train.Epochs);

        var evalClock = Stopwatch.StartNew();
        var evaluation = FairEvaluation.Evaluate(model, data, options, trainIndices, TestIndices(options, data.Test.Count));
        var evalSeconds = evalClock.Elapsed.TotalSeconds;
        evaluation.Projection.Plot(Path.Combine(options.Output.OutDir, EmbeddingPlotFileName),
            $"{EnumNames.Cli(options.Model.Method)} on {data.Name}: test representations (PCA), coloured by z");
        JsonOutput.WriteFile(Path.Combine(options.Output.OutDir, FairEmbeddingProjection.FileName), evaluation.Projection);

        var summary = new FairRunSummary
        {
            Method = EnumNames.Cli(options.Model.Method), Data = data.Name, Sensitive = SensitiveLabel(options),
            Seed = options.Train.Seed, DataSeed = options.Data.DataSeed, Epochs = options.Train.Epochs, Steps = training.StepsCompleted,
            Params = model.ParameterCount, TrainCount = trainIndices.Length, TestCount = evaluation.TestCount,
            ProbeTrainCount = evaluation.ProbeTrainCount, RepresentationDim = model.RepresentationDim,
            FinalTrainLoss = epochLoss.Count > 0 ? epochLoss[^1] : training.FinalTrainLoss, EpochTrainLoss = epochLoss,
            TargetAccuracy = evaluation.TargetAccuracy, ZMse = evaluation.ZMse, ZMseOfMean = evaluation.ZMseOfMean,
            ZProbeAccuracy = evaluation.ZProbeAccuracy, ZMajorityRate = evaluation.ZMajorityRate,
            EqualizedOdds = evaluation.EqualizedOdds, EqualizedOddsMax = evaluation.EqualizedOddsMax, DemographicParity = evaluation.DemographicParity,
            TargetProbeFit = evaluation.TargetProbeFit, ZProbeFit = evaluation.ZProbeFit,
            Attention = evaluation.Attention, WallSeconds = clock.Elapsed.TotalSeconds, TrainSeconds = trainSeconds, EvalSeconds = evalSeconds, SamplesPerSecond = training.Throughput,
            Options = options with { Output = options.Output.Recorded },
        };
        JsonOutput.WriteFile(Path.Combine(options.Output.OutDir, SummaryFileName), summary);
        PlotLossCurve(Path.Combine(options.Output.OutDir, LossCurveFileName), summary.Method, training.History, stepsPerEpoch);
        return summary;
    }

    /// <summary>One update: two augmented views of the step's batch (on the CPU, then moved to <paramref name="device"/>) and their contrastive loss.</summary>
    private static StepLoss TrainStep(FairContrastiveModel model, FairDataset data, FairRunOptions options, long[] batch, Device device)
    {
        var index = torch.tensor(batch, dtype: ScalarType.Int64, device: CPU);
        var inputs = data.Train.Inputs(index);
        var (view1, view2) = data.Kind == FairInputKind.Image
            ? ImageAugmentation.TwoViews(inputs, ImageSize)
            : TabularAugmentation.TwoViews(inputs, options.Data.CorruptionRate);
        var sensitive = new SensitiveBatch(data.Train.SensitiveStandardized.index_select(0, index).to(device), data.Train.Groups.index_select(0, index).to(device));
        return new StepLoss(model.forward(view1.to(device), view2.to(device), sensitive), null, batch.Length);
    }

    /// <summary>
    /// Batches of one epoch: consecutive slices of a permutation of the train indices drawn from (seed, epoch), the last
    /// incomplete batch dropped. Deterministic in the step, so a resumed run sees the same batches.
    /// </summary>
    private sealed class EpochBatches(long[] indices, int batchSize, int stepsPerEpoch, int seed)
    {
        private long _epoch = -1;
        private long[] _order = [];

        public long[] At(long step)
        {
            var epoch = step / stepsPerEpoch;
            if (epoch != _epoch)
            {
                _order = (long[])indices.Clone();
                new Random(Seeds.ForStream(seed, epoch)).Shuffle(_order);
                _epoch = epoch;
            }
            var offset = (int)(step % stepsPerEpoch) * batchSize;
            return _order.AsSpan(offset, batchSize).ToArray();
        }
    }

    private static long[] Subsample(int count, int? limit, int seed, int stream)
    {
        if (limit is not { } n || n >= count) return Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        var order = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        new Random(Seeds.ForStream(seed, stream)).Shuffle(order);
        var chosen = order[..n];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>Mean training loss per epoch from the trainer's log records (which never straddle epochs).</summary>
    private static List<double> EpochLosses(IReadOnlyList<MetricRecord> history, int stepsPerEpoch, int epochs)
    {
        var records = history.Where(r => r.Split == MetricRecord.TrainSplit).ToList();
        var losses = new List<double>();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var inEpoch = records.Where(r => (r.Step - 1) / stepsPerEpoch == epoch).Select(r => r.Loss).ToList();
            if (inEpoch.Count == 0) break;
            losses.Add(inEpoch.Average());
        }
        return losses;
    }

    private static void PlotLossCurve(string path, string label, IReadOnlyList<MetricRecord> history, int stepsPerEpoch)
    {
        var points = history.Where(r => r.Split == MetricRecord.TrainSplit).ToList();
        if (points.Count == 0) return;
        Plots.LineChart(path, $"Training loss ({label})", "epoch", "contrastive loss (mean over log window)",
            [new Series(label, points.Select(p => (double)p.Step / stepsPerEpoch).ToList(), points.Select(p => p.Loss).ToList())]);
    }
}
