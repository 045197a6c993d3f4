using System.Text.Json;
using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.Comparison;
using StatFormer.IO;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Training;
using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Data;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using TorchSharp;

namespace StatFormer.Vision.Experiments;

/// <summary>
/// What a vision comparison runs: the shared run options, the variants and the seeds. Every variant of a seed gets the
/// same data order, augmentation, adversarial-training starts, step budget and attack draws (the seeds of all of them
/// are the run's <c>Train.Seed</c> = the comparison seed and the shared <c>Eval.Attack.Seed</c>).
/// </summary>
public sealed record VisionComparisonOptions
{
    public required VisionRunOptions Run { get; init; }

    public IReadOnlyList<VisionVariant> Variants { get; init; } = [VisionVariant.Softmax, VisionVariant.Elliptical];

    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];

    /// <summary>"I/N": run only this machine's share of the runs into the shared output folder (see <see cref="ComparisonShard"/>); null: all of them, or aggregate a folder that shards filled.</summary>
    public string? Shard { get; init; }

    public void Validate()
    {
        ComparisonShard.ParseOption(Shard, nameof(Shard));
        OptionCheck.Require(Seeds.Count > 0, nameof(Seeds), "must name at least one seed");
        OptionCheck.Require(Seeds.Distinct().Count() == Seeds.Count, nameof(Seeds), "names a seed twice");
        OptionCheck.Require(Variants.Count > 0, nameof(Variants), "must name at least one variant");
        OptionCheck.Require(Variants.Distinct().Count() == Variants.Count, nameof(Variants), "names a variant twice");
        OptionCheck.Nested(nameof(Run), Run.Validate);
    }
}

/// <summary>A compared image classifier: softmax ViT, elliptical ViT (evaluated with its training estimator or with the median), ResNet-18, softmax ViTs with MoE or Soft MoE feed-forward layers.</summary>
public enum VisionVariant
{
    Softmax,
    Elliptical,
    /// <summary>The elliptical ViT trained with the mean estimator and evaluated and attacked with the median, as the authors' attack scripts do.</summary>
    EllipticalMedian,
    Resnet18,
    /// <summary>Softmax ViTs with MoE feed-forward layers (the layout, experts, top-k, capacity from the shared options): linear router.</summary>
    Smoe,
    /// <summary>Cosine (XMoE) router.</summary>
    Xmoe,
    /// <summary>Adaptive Clustering over the linear router.</summary>
    AcSmoe,
    /// <summary>Adaptive Clustering over the cosine router.</summary>
    AcXmoe,
    /// <summary>Soft MoE (slots per expert from the shared options).</summary>
    SoftMoe,
    /// <summary>Adaptive Clustering over Soft MoE's slot logits.</summary>
    AcSoftMoe,
}

/// <summary>Comparisons of image classifiers across seeds, on equal footing, through <see cref="ComparisonRunner"/>.</summary>
public static class VisionComparison
{
    /// <summary>The run options of <paramref name="variant"/> at <paramref name="seed"/> in <paramref name="runFolder"/>.</summary>
    public static VisionRunOptions RunOptions(VisionRunOptions shared, VisionVariant variant, int seed, string runFolder)
    {
        var model = variant switch
        {
            VisionVariant.Softmax => shared.Model with { Architecture = VisionArchitecture.Vit, Stack = shared.Model.Stack with { Attention = AttentionKind.Softmax, Moe = Dense(shared) } },
            VisionVariant.Elliptical or VisionVariant.EllipticalMedian => shared.Model with { Architecture = VisionArchitecture.Vit, Stack = shared.Model.Stack with { Attention = AttentionKind.Elliptical, Moe = Dense(shared) } },
            VisionVariant.Resnet18 => shared.Model with { Architecture = VisionArchitecture.Resnet18 },
            VisionVariant.Smoe or VisionVariant.Xmoe or VisionVariant.AcSmoe or VisionVariant.AcXmoe or VisionVariant.SoftMoe or VisionVariant.AcSoftMoe => shared.Model with
            {
                Architecture = VisionArchitecture.Vit,
                Stack = shared.Model.Stack with { Attention = AttentionKind.Softmax, Moe = shared.Model.Stack.Moe with { Router = RouterOf(variant) } },
            },
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "unknown variant"),
        };
        var eval = variant == VisionVariant.EllipticalMedian ? shared.Eval with { Estimator = EllipticalEstimator.Median } : shared.Eval;
        return shared with { Model = model, Eval = eval, Train = shared.Train with { Seed = seed }, Output = shared.Output with { OutDir = runFolder } };
    }

    // The dense variants stay dense whatever MoE layout the shared options give the MoE variants.
    private static Moe.MoeLayout Dense(VisionRunOptions shared) => shared.Model.Stack.Moe with { Router = Moe.MoeKind.None };

    private static Moe.MoeKind RouterOf(VisionVariant variant) => variant switch
    {
        VisionVariant.Smoe => Moe.MoeKind.Smoe,
        VisionVariant.Xmoe => Moe.MoeKind.Xmoe,
        VisionVariant.AcSmoe => Moe.MoeKind.AcSmoe,
        VisionVariant.AcXmoe => Moe.MoeKind.AcXmoe,
        VisionVariant.SoftMoe => Moe.MoeKind.SoftMoe,
        VisionVariant.AcSoftMoe => Moe.MoeKind.AcSoftMoe,
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "not an MoE variant"),
    };

    /// <param name="device">Where every run trains and is evaluated (default: the CPU).</param>
    public static VisionComparisonSummary Run(VisionComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default, TorchSharp.torch.Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        OptionCheck.Require(options.Shard is null, nameof(VisionComparisonOptions.Shard), "runs a share of a comparison: `vision compare --shard I/N` (RunShard)");
        var output = options.Run.Output;
        var plan = new ComparisonPlan<VisionVariant>(options.Variants, options.Seeds, output.OutDir, output.Resume, output.Overwrite);
        return ComparisonRunner.Run(plan, () => new VariantRuns(options, device, cancellationToken), progressFor, log, cancellationToken);
    }

    /// <summary>Runs this machine's share (<see cref="VisionComparisonOptions.Shard"/>) of the comparison into its shared folder; see <see cref="ComparisonRunner.RunShard"/>.</summary>
    public static ComparisonShardResult RunShard(VisionComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default, TorchSharp.torch.Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var shard = ComparisonShard.Require(options.Shard, nameof(VisionComparisonOptions.Shard));
        var output = options.Run.Output;
        var plan = new ComparisonPlan<VisionVariant>(options.Variants, options.Seeds, output.OutDir, output.Resume, output.Overwrite, shard);
        return ComparisonRunner.RunShard(plan, () => new VariantRuns(options, device, cancellationToken), progressFor, log, cancellationToken);
    }

    private sealed class VariantRuns(VisionComparisonOptions options, TorchSharp.torch.Device? device, CancellationToken cancellationToken)
        : IComparisonDomain<VisionVariant, VisionRunSummary, VisionComparisonSummary>, IDisposable
    {
        // Loaded once: every variant and seed trains and is attacked on the very same images.
        private readonly ImageSplits _data = VisionData.Load(options.Run.Data, null, cancellationToken);

        public string NameOf(VisionVariant variant) => EnumNames.Cli(variant);

        public VisionRunSummary? ReadFinished(VisionVariant variant, int seed, string runFolder)
        {
            var runOptions = RunOptions(options.Run, variant, seed, runFolder);
            var spec = VisionExperiment.Spec(runOptions, _data.Train);
            VisionRunMetadata.EnsureSameRun(runFolder, new VisionRunMetadata(spec, runOptions));
            VisionRunSummary? summary;
            try
            {
                summary = JsonSerializer.Deserialize<VisionRunSummary>(File.ReadAllText(Path.Combine(runFolder, RunFolder.SummaryFileName)), JsonOutput.Options);
            }
            catch (JsonException)
            {
                return null;
            }
            // Reused only when every option (steps, evaluation, attacks) is this comparison's; otherwise it is resumed and re-evaluated.
            var expected = JsonOutput.Serialize(runOptions with { Output = runOptions.Output.Recorded });
            return summary is not null && JsonOutput.Serialize(summary.Options) == expected ? summary : null;
        }

        public VisionRunSummary Run(VisionVariant variant, int seed, string runFolder, IProgress<TrainingProgress>? progress, CancellationToken token)
        {
            var runOptions = RunOptions(options.Run, variant, seed, runFolder);
            if (variant == VisionVariant.EllipticalMedian && StartFromEllipticalRun(seed, runFolder))
                runOptions = runOptions with { Output = runOptions.Output with { Resume = true, Overwrite = false } };
            return VisionExperiment.Run(runOptions, progress, _data, token, device);
        }

        /// <summary>
        /// elliptical-median trains exactly what elliptical trains (same model, data, seed and objective; only the evaluation
        /// estimator differs), so it starts from the elliptical run's checkpoint of the same seed when this comparison has
        /// one: the resumed trainer continues it to the budget (nothing, when it is finished) and the median evaluates that
        /// very model. Without one (median listed first, or another shard's elliptical run not written yet) it trains itself,
        /// to the same weights. Returns whether it copied.
        /// </summary>
        private bool StartFromEllipticalRun(int seed, string runFolder)
        {
            if (!options.Variants.Contains(VisionVariant.Elliptical)) return false;
            var output = options.Run.Output;
            if (output.Resume && File.Exists(Path.Combine(runFolder, Trainer.CheckpointFileName))) return false;  // its own run continues
            var elliptical = Path.Combine(output.OutDir, RunFolder.PerRunFolderName(NameOf(VisionVariant.Elliptical), seed));
            var checkpoint = Path.Combine(elliptical, Trainer.CheckpointFileName);
            if (!File.Exists(checkpoint)) return false;
            RunFolderLock source;
            try
            {
                source = RunFolderLock.Acquire(elliptical);
            }
            catch (RunFolderInUseException)
            {
                return false;  // another shard is training it right now
            }
            using (source)
            {
                // Clears what an earlier run left here (refused, as ever, unless the comparison overwrites) before the copy.
                RunFolder.Claim(runFolder, RunFolderKind.Run, resume: false, overwrite: output.Overwrite).Dispose();
                Directory.CreateDirectory(runFolder);  // the claim removes a folder it created and left empty
                File.Copy(checkpoint, Path.Combine(runFolder, Trainer.CheckpointFileName));
                var metrics = Path.Combine(elliptical, Trainer.MetricsFileName);
                if (File.Exists(metrics)) File.Copy(metrics, Path.Combine(runFolder, Trainer.MetricsFileName));
            }
            return true;
        }

        public string? WarningAbout(VisionRunSummary run) => null;

        public VisionComparisonSummary Summarize(IReadOnlyList<ComparisonRun<VisionVariant, VisionRunSummary>> runs)
        {
            // The corruption errors' reference (= 100): the softmax ViT of this comparison, else its first variant.
            var reference = options.Variants.Contains(VisionVariant.Softmax) ? VisionVariant.Softmax : options.Variants[0];
            var referenceRuns = runs.Where(r => r.Variant == reference).Select(r => r.Result).ToList();
            var variants = options.Variants.Select(v =>
            {
                var own = runs.Where(r => r.Variant == v).Select(r => r.Result).ToList();
                return VisionVariantAggregate.Of(NameOf(v), own) with { Corruption = VisionCorruptionAggregate.Of(own, referenceRuns, NameOf(reference)) };
            }).ToList();
            var outDir = options.Run.Output.OutDir;
            using var examples = ExampleColumns(runs);
            using var corrupted = CorruptionExamples(runs, reference);
            var summary = new VisionComparisonSummary
            {
                Data = _data.Train.Source, Classes = _data.Train.Classes, TrainImages = _data.Train.Count, TestImages = _data.Test.Count,
                Seeds = options.Seeds, Variants = variants, Runs = runs.Select(r => r.Result).ToList(),
                Report = Path.Combine(outDir, ComparisonRunner.ReportFileName),
                Plots = [.. VisionComparisonReport.WritePlots(outDir, variants, examples, _data.Test.ClassNames),
                    .. VisionComparisonReport.WriteRoutingPlots(outDir, variants, runs.Select(r => r.Result).ToList()),
                    .. VisionCorruptionReport.WritePlots(outDir, variants, corrupted, _data.Test.ClassNames)],
                Options = options with { Run = options.Run with { Output = options.Run.Output.Recorded } },
            };
            VisionComparisonReport.Write(summary);
            return summary;
        }

        /// <summary>
        /// The image grid's columns: the first seed's model of each variant on the first attacked images, attacked by the
        /// strongest gradient attack asked for (PGD if listed, else the first) at the largest ε, with the same draws.
        /// </summary>
        private VisionExampleGrid? ExampleColumns(IReadOnlyList<ComparisonRun<VisionVariant, VisionRunSummary>> runs)
        {
            var attack = options.Run.Eval.Attack;
            var kind = attack.Attacks.Contains(AttackKind.Pgd) ? AttackKind.Pgd : attack.Attacks[0];
            var epsilon = attack.Epsilons.Max();
            var count = Math.Min(options.Run.Eval.ExampleImages, RobustnessEvaluation.AttackedImages(_data.Test, attack).Length);
            var columns = new List<VisionExampleColumn>();
            TorchSharp.torch.Tensor? clean = null;
            long[] labels = [];
            foreach (var run in runs.Where(r => r.Seed == options.Seeds[0]))
            {
                using var trained = TrainedVisionRun.Load(run.Folder);
                if (device is not null) trained.Model.to(device);
                if (run.Variant == VisionVariant.EllipticalMedian && trained.Model is VisionTransformer vit) vit.Estimator = EllipticalEstimator.Median;
                using var examples = RobustnessEvaluation.Examples(trained.Model, _data.Test, kind, epsilon, count, attack, trained.Metadata.Spec.Normalization);
                clean ??= examples.Clean.detach().cpu().clone().DetachFromDisposeScope();
                labels = examples.Labels.cpu().data<long>().ToArray();
                columns.Add(new VisionExampleColumn(run.Name, examples.Adversarial.detach().cpu().clone().DetachFromDisposeScope(),
                    examples.CleanPredictions.cpu().data<long>().ToArray(), examples.AdversarialPredictions.cpu().data<long>().ToArray()));
            }
            return clean is null ? null : new VisionExampleGrid(EnumNames.Cli(kind), epsilon, clean, labels, columns);
        }

        /// <summary>
        /// The corruption grid: the first image of the corruption subset under every corruption (rows) and severity
        /// (columns), each corrupted on its own with the corruption's generator, and the reference variant's first-seed
        /// predictions. Null when the comparison evaluates no corruptions.
        /// </summary>
        private CorruptionExamples? CorruptionExamples(IReadOnlyList<ComparisonRun<VisionVariant, VisionRunSummary>> runs, VisionVariant reference)
        {
            var corruption = options.Run.Eval.Corruption;
            if (!corruption.Enabled) return null;
            var run = runs.First(r => r.Variant == reference && r.Seed == options.Seeds[0]);
            using var trained = TrainedVisionRun.Load(run.Folder);
            return Corruptions.CorruptionExamples.Of(trained.Model, _data.Test, corruption, $"{run.Name}");
        }

        public void Dispose() => _data.Dispose();
    }
}

/// <summary>The adversarial examples of the comparison's image grid (owns its tensors).</summary>
public sealed record VisionExampleGrid(string Attack, double Epsilon, TorchSharp.torch.Tensor Clean, IReadOnlyList<long> Labels, IReadOnlyList<VisionExampleColumn> Columns) : IDisposable
{
    public void Dispose()
    {
        Clean.Dispose();
        foreach (var column in Columns) column.Adversarial.Dispose();
    }
}

/// <summary>One variant's column of the grid: its adversarial images and its predictions on the clean and the adversarial ones.</summary>
public sealed record VisionExampleColumn(string Variant, TorchSharp.torch.Tensor Adversarial, IReadOnlyList<long> CleanPredictions, IReadOnlyList<long> AdversarialPredictions);

/// <summary>The comparison's result, written as summary.json.</summary>
public sealed record VisionComparisonSummary
{
    public required string Data { get; init; }
    public required int Classes { get; init; }
    public required long TrainImages { get; init; }
    public required long TestImages { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public required IReadOnlyList<VisionVariantAggregate> Variants { get; init; }
    public required IReadOnlyList<VisionRunSummary> Runs { get; init; }
    public required string Report { get; init; }
    public required IReadOnlyList<string> Plots { get; init; }
    public required VisionComparisonOptions Options { get; init; }
}

/// <summary>One variant over the seeds: mean ± sample std of every measure.</summary>
public sealed record VisionVariantAggregate(string Variant, long Params, MeanStd CleanAccuracy, IReadOnlyList<VisionAttackAggregate> Attacks,
    IReadOnlyList<VisionEpsilonAggregate>? WorstCase, IReadOnlyList<VisionLayerAggregate> Layers, MeanStd ImagesPerSecond, MeanStd WallSeconds, string EvalEstimator,
    RoutingAggregate? Routing = null, IReadOnlyList<VisionRoutingLayerAggregate>? RoutingLayers = null, VisionCorruptionAggregate? Corruption = null)
{
    public static VisionVariantAggregate Of(string variant, IReadOnlyList<VisionRunSummary> runs)
    {
        var first = runs[0];
        var attacks = first.Robustness.Curves.Select((curve, c) => new VisionAttackAggregate(curve.Attack, curve.GradientFree,
            curve.Points.Select((point, p) => new VisionEpsilonAggregate(point.Epsilon, MeanStd.Of(runs.Select(r => r.Robustness.Curves[c].Points[p].RobustAccuracy)))).ToList())).ToList();
        var worst = first.Robustness.WorstCase?.Select((point, p) => new VisionEpsilonAggregate(point.Epsilon, MeanStd.Of(runs.Select(r => r.Robustness.WorstCase![p].RobustAccuracy)))).ToList();
        var layers = first.Layers.Select((layer, l) => new VisionLayerAggregate(layer.Layer, MeanStd.Of(runs.Select(r => r.Layers[l].RepresentationCollapse)),
            MeanStd.OfAll(runs.Select(r => r.Layers[l].MetricMean)), MeanStd.OfAll(runs.Select(r => r.Layers[l].MetricStd)))).ToList();
        return new VisionVariantAggregate(variant, first.Params, MeanStd.Of(runs.Select(r => r.CleanAccuracy)), attacks, worst, layers,
            MeanStd.Of(runs.Select(r => r.ImagesPerSecond)), MeanStd.Of(runs.Select(r => r.WallSeconds)), first.EvalEstimator,
            RoutingAggregate.Of(runs.Select(r => r.Routing)), VisionRoutingLayerAggregate.Of(runs.Select(r => r.Routing)));
    }
}

public sealed record VisionAttackAggregate(string Attack, bool GradientFree, IReadOnlyList<VisionEpsilonAggregate> Points);

public sealed record VisionEpsilonAggregate(double Epsilon, MeanStd RobustAccuracy);

/// <summary>
/// One MoE layer of an MoE ViT over the seeds (mean ± sample std): load CV, normalised router entropy, purity and NMI of the
/// top-1 expert against the image class, and the NMI between this layer's top-1 partition and the next MoE layer's (null
/// for the last). Expert ids are arbitrary per run, so only these id-free measures are averaged.
/// </summary>
public sealed record VisionRoutingLayerAggregate(int MoeLayer, MeanStd LoadCv, MeanStd RouterEntropyNormalized, MeanStd ClassPurity, MeanStd ClassNmi,
    MeanStd? StabilityNmiToNext)
{
    /// <summary>Per MoE layer over the runs; null when the runs have no routing diagnostics (dense models).</summary>
    public static IReadOnlyList<VisionRoutingLayerAggregate>? Of(IEnumerable<MoeDiagnostics?> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var all = runs.ToList();
        if (all.Count == 0 || all.Any(r => r is null)) return null;
        var routing = all.Select(r => r!).ToList();
        return Enumerable.Range(0, routing.Min(r => r.Layers.Count)).Select(l => new VisionRoutingLayerAggregate(l,
            MeanStd.Of(routing.Select(r => r.Layers[l].LoadCv)), MeanStd.Of(routing.Select(r => r.Layers[l].RouterEntropyNormalized)),
            MeanStd.Of(routing.Select(r => r.Layers[l].TopicPurity!.Value)), MeanStd.Of(routing.Select(r => r.Layers[l].TopicNmi!.Value)),
            routing.All(r => l < r.StabilityNmi.Count) ? MeanStd.Of(routing.Select(r => r.StabilityNmi[l])) : null)).ToList();
    }
}

/// <summary>One ViT layer over the seeds: representation collapse and the elliptical metric's mean and spread over coordinates (null in softmax layers).</summary>
public sealed record VisionLayerAggregate(int Layer, MeanStd RepresentationCollapse, MeanStd? MetricMean, MeanStd? MetricStd);
