using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Data;
using StatFormer.Fairness.Data;
using StatFormer.Fairness.Experiments;
using StatFormer.Fairness.Models;
using StatFormer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Evaluation;

/// <summary>
/// The evaluation protocol of spec §4.4 on a trained <see cref="FairContrastiveModel"/>: freeze the encoder, take its
/// representation (before the projection head, eval mode, the deterministic Resize(32) view for images) of train and
/// test samples, and fit linear probes on the train representations, each to convergence (see <see cref="LinearProbe"/>;
/// how each fit ended is in <see cref="FairEvaluationResult.TargetProbeFit"/> and <see cref="FairEvaluationResult.ZProbeFit"/>):
/// <list type="bullet">
/// <item>target accuracy: classifier for the label, test accuracy;</item>
/// <item>continuous z (colour): regressor for z on its raw scale (0–255 RGB), test MSE averaged over z's columns — the
/// paper's "bias removal", higher = more of z removed;</item>
/// <item>categorical z: classifier for the group id, test accuracy beside the majority rate;</item>
/// <item>binary target: equalized odds (FSCL mean form and Hardt max form) and demographic parity of the target probe's
/// test predictions across the groups;</item>
/// <item>FARE/SparseFARE: the attention diagnostics on one test batch.</item>
/// </list>
/// </summary>
public static class FairEvaluation
{
    private const int EmbedBatchSize = 1024;
    private const int ProjectionPoints = 2000;

    /// <param name="trainIndices">The train samples the run trained on; the probes are fitted on all of them or on a data-seeded subset of
    /// <see cref="FairRunOptions.ProbeTrainLimit"/> of them.</param>
    /// <param name="testIndices">The test samples to evaluate on.</param>
    public static FairEvaluationResult Evaluate(FairContrastiveModel model, FairDataset data, FairRunOptions options, long[] trainIndices, long[] testIndices)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        using var scope = torch.NewDisposeScope();
        var wasTraining = model.training;
        model.eval();
        try
        {
            // The evaluation's only random draw is SparseFARE's LSH in the diagnostics: seed it so the result does not
            // depend on how much randomness training consumed.
            torch.manual_seed(options.Train.Seed);
            var probeIndices = ProbeIndices(trainIndices, options);
            using var probeIndex = torch.tensor(probeIndices, dtype: ScalarType.Int64, device: CPU);
            using var testIndex = torch.tensor(testIndices, dtype: ScalarType.Int64, device: CPU);
            var trainFeatures = Embed(model, data.Train, data.Kind, probeIndex);
            var testFeatures = Embed(model, data.Test, data.Kind, testIndex);
            var trainTargets = data.Train.Targets.index_select(0, probeIndex);
            var testTargets = data.Test.Targets.index_select(0, testIndex);
            var trainGroups = data.Train.Groups.index_select(0, probeIndex);
            var testGroups = data.Test.Groups.index_select(0, testIndex);

            using var targetProbe = LinearProbe.FitClassifier(trainFeatures, trainTargets, data.NumClasses,
                maxIterations: options.Eval.ProbeMaxIterations, l2: options.Eval.ProbeL2, tolerance: options.Eval.ProbeTolerance);
            var targetAccuracy = 100 * targetProbe.Accuracy(testFeatures, testTargets);

            double? zMse = null, zMseOfMean = null, zAccuracy = null, zMajority = null;
            ProbeFit zFit;
            if (data.SensitiveIsContinuous)
            {
                var trainZ = data.Train.Sensitive.index_select(0, probeIndex);
                var testZ = data.Test.Sensitive.index_select(0, testIndex);
                using var zProbe = LinearProbe.FitRegressor(trainFeatures, trainZ, l2: options.Eval.ProbeL2, tolerance: options.Eval.ProbeTolerance);
                zFit = zProbe.Fit;
                zMse = zProbe.MeanSquaredError(testFeatures, testZ);
                zMseOfMean = (testZ - trainZ.mean([0L], keepdim: true)).pow(2).mean().item<float>();
            }
            else
            {
                using var zProbe = LinearProbe.FitClassifier(trainFeatures, trainGroups, data.GroupNames.Count,
                    maxIterations: options.Eval.ProbeMaxIterations, l2: options.Eval.ProbeL2, tolerance: options.Eval.ProbeTolerance);
                zFit = zProbe.Fit;
                zAccuracy = 100 * zProbe.Accuracy(testFeatures, testGroups);
                zMajority = 100 * LinearProbe.MajorityRate(testGroups);
            }

            double? eo = null, eoMax = null, dp = null;
            if (data.NumClasses == 2)
            {
                var predictions = ToInts(targetProbe.Predict(testFeatures));
                var targets = ToInts(testTargets);
                var groups = ToInts(testGroups);
                eo = FairnessMetrics.EqualizedOddsGap(predictions, targets, groups);
                eoMax = FairnessMetrics.EqualizedOddsMaxGap(predictions, targets, groups);
                dp = FairnessMetrics.DemographicParityGap(predictions, groups);
            }

            FareAttentionDiagnostics? attention = null;
            if (model.ContrastiveLoss is FareLoss fare)
            {
                var batch = testIndex.narrow(0, 0, Math.Min(options.Train.BatchSize, testIndices.Length));
                using var noGrad = torch.no_grad();
                var device = DeviceChoice.DeviceOf(model);
                attention = fare.Diagnose(new SensitiveBatch(data.Test.SensitiveStandardized.index_select(0, batch).to(device), data.Test.Groups.index_select(0, batch).to(device)));
            }

            var shown = Math.Min(ProjectionPoints, testIndices.Length);
            var isRgb = data.Kind == FairInputKind.Image && data.SensitiveIsContinuous && data.SensitiveDim == 3;
            var projection = FairEmbeddingProjection.Compute(testFeatures.narrow(0, 0, shown), testGroups.narrow(0, 0, shown), data.GroupNames,
                isRgb ? data.Test.Sensitive.index_select(0, testIndex.narrow(0, 0, shown)) : null);

            return new FairEvaluationResult(probeIndices.Length, testIndices.Length, targetAccuracy, zMse, zMseOfMean, zAccuracy, zMajority,
                eo, eoMax, dp, attention, projection, targetProbe.Fit, zFit);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The encoder's representation [n, d] of the samples at <paramref name="index"/>, batched, without gradients: computed on the model's device, returned on the CPU (where the probes fit).</summary>
    public static Tensor Embed(FairContrastiveModel model, FairSplit split, FairInputKind kind, Tensor index)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var parts = new List<Tensor>();
        var device = DeviceChoice.DeviceOf(model);
        var n = index.shape[0];
        for (long start = 0; start < n; start += EmbedBatchSize)
        {
            var inputs = split.Inputs(index.narrow(0, start, Math.Min(EmbedBatchSize, n - start)));
            if (kind == FairInputKind.Image) inputs = ImageAugmentation.Resize(inputs, FairExperiment.ImageSize);
            parts.Add(model.Embed(inputs.to(device)).cpu());
        }
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    private static long[] ProbeIndices(long[] trainIndices, FairRunOptions options)
    {
        if (options.Eval.ProbeTrainLimit is not { } limit || limit >= trainIndices.Length) return trainIndices;
        var order = (long[])trainIndices.Clone();
        new Random(Seeds.ForStream(options.Data.DataSeed, 3)).Shuffle(order);
        var chosen = order[..limit];
        Array.Sort(chosen);
        return chosen;
    }

    private static int[] ToInts(Tensor values)
    {
        using var asLong = values.to_type(ScalarType.Int64);
        return asLong.data<long>().ToArray().Select(v => (int)v).ToArray();
    }
}
