using StatFormer.Comparison;
using StatFormer.Contrastive;
using StatFormer.Fairness.Data;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Training;
using Device = TorchSharp.torch.Device;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// Trains every contrastive method for every seed on equal footing — one dataset object, one encoder architecture,
/// optimiser, epoch budget, train/test subsets and probe protocol — through <see cref="ComparisonRunner"/>, and aggregates
/// accuracy, bias, fairness gaps, attention diagnostics and timings over seeds; <see cref="FairComparisonReport"/> writes
/// report.md (with the paper's numbers beside ours) and the plots.
/// </summary>
public static class FairComparison
{
    public const string ZMseMetric = "z_mse";
    public const string EqualizedOddsMetric = "equalized_odds";
    public const string ZProbeAccuracyMetric = "z_probe_accuracy";

    /// <summary>
    /// The demo's settings (the lead wires them into `statformer demo`): the embedded synthetic dataset (no files), the
    /// MLP encoder, a few epochs — every method × 2 seeds in about 20 s (measured with OMP_NUM_THREADS=1 on the 2-core
    /// machine; with libtorch's 2 intra-op threads on a busy machine the same took 3 minutes, as its threads spin-wait).
    /// </summary>
    public static FairRunOptions DemoRun { get; } = new()
    {
        Data = new() { Dataset = FairRunOptions.Synthetic, TrainLimit = 2048, TestLimit = 1000 },
        Model = new() { MlpHidden = 64, MlpOutput = 32, ProjectionDim = 64 },
        Train = new() { Epochs = 8, BatchSize = 256, LearningRate = 2e-3, WarmupEpochs = 1 },
        Output = new() { OutDir = Path.Combine("runs", "fair-demo") },
    };

    /// <param name="progressFor">Called once per run with its label ("fare seed 1") to get a progress sink; may return null.</param>
    /// <param name="log">Status lines (which run starts, which is reused, probes that did not converge).</param>
    /// <param name="device">Where every run trains and is evaluated (default: the CPU).</param>
    public static FairComparisonSummary Run(FairComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionCheck.Require(options.Seeds.Count > 0, nameof(options.Seeds), "must name at least one seed");
        OptionCheck.Require(options.Methods.Count > 0, nameof(options.Methods), "must name at least one method");
        OptionCheck.Require(options.Methods.Distinct().Count() == options.Methods.Count, nameof(options.Methods), "names a method twice");
        var shared = options.Run;
        shared.Validate();
        var output = options.Run.Output;
        var plan = new ComparisonPlan<ContrastiveMethod>(options.Methods, options.Seeds, output.OutDir, output.Resume, output.Overwrite);
        return ComparisonRunner.Run(plan, () => new MethodRuns(options, shared, device), progressFor, log, cancellationToken);
    }

    /// <summary>Runs this machine's share (<see cref="FairComparisonOptions.Shard"/>) of the comparison into its shared folder; see <see cref="ComparisonRunner.RunShard"/>.</summary>
    public static ComparisonShardResult RunShard(FairComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionCheck.Require(options.Seeds.Count > 0, nameof(options.Seeds), "must name at least one seed");
        OptionCheck.Require(options.Methods.Count > 0, nameof(options.Methods), "must name at least one method");
        OptionCheck.Require(options.Methods.Distinct().Count() == options.Methods.Count, nameof(options.Methods), "names a method twice");
        var shard = ComparisonShard.Require(options.Shard, nameof(options.Shard));
        var shared = options.Run;
        shared.Validate();
        var output = options.Run.Output;
        var plan = new ComparisonPlan<ContrastiveMethod>(options.Methods, options.Seeds, output.OutDir, output.Resume, output.Overwrite, shard);
        return ComparisonRunner.RunShard(plan, () => new MethodRuns(options, shared, device), progressFor, log, cancellationToken);
    }

    /// <summary>The bias axis of a dataset: z MSE for continuous z, else the equalized-odds gap (binary target), else the z-probe accuracy.</summary>
    public static string BiasMetric(FairDataset data) =>
        data.SensitiveIsContinuous ? ZMseMetric : data.NumClasses == 2 ? EqualizedOddsMetric : ZProbeAccuracyMetric;

    /// <summary>The fair contrastive runs of a comparison: the dataset is loaded once, shared by every run and disposed at the end.</summary>
    /// <param name="shared">The validated run settings every run shares (<see cref="FairComparisonOptions.Run"/> with the comparison's resume flags).</param>
    private sealed class MethodRuns(FairComparisonOptions options, FairRunOptions shared, Device? device)
        : IComparisonDomain<ContrastiveMethod, FairRunSummary, FairComparisonSummary>, IDisposable
    {
        private readonly FairDataset _data = FairExperiment.LoadData(shared);

        public string NameOf(ContrastiveMethod method) => EnumNames.Cli(method);

        /// <summary>The shared run settings with this run's method, seed and folder: the only per-run difference.</summary>
        private FairRunOptions RunOptions(ContrastiveMethod method, int seed, string runFolder) => shared with
        {
            Model = shared.Model with { Method = method },
            Train = shared.Train with { Seed = seed },
            Output = shared.Output with { OutDir = runFolder },
        };

        /// <summary>
        /// The run folder's summary when it is of this very run with these very settings; null when it should be (re)run —
        /// resumed from its checkpoint, which only re-evaluates when training had finished. A checkpoint of another run is an error.
        /// </summary>
        public FairRunSummary? ReadFinished(ContrastiveMethod method, int seed, string runFolder)
        {
            var runOptions = RunOptions(method, seed, runFolder);
            FairRunMetadata.EnsureSameRun(runFolder, FairExperiment.Metadata(runOptions, _data));
            FairRunSummary? summary;
            try
            {
                summary = System.Text.Json.JsonSerializer.Deserialize<FairRunSummary>(
                    File.ReadAllText(Path.Combine(runFolder, FairExperiment.SummaryFileName)), JsonOutput.Options);
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
            // A summary without probe fits predates probes fitted to convergence: re-evaluate it (its checkpoint is reused).
            return summary is { TargetProbeFit: not null } && summary.Options == runOptions with { Output = runOptions.Output.Recorded } ? summary : null;
        }

        public FairRunSummary Run(ContrastiveMethod method, int seed, string runFolder, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) =>
            FairExperiment.Run(RunOptions(method, seed, runFolder), progress, _data, cancellationToken, device);

        public string? WarningAbout(FairRunSummary run) => FairComparisonReport.ProbeWarning(run);

        public FairComparisonSummary Summarize(IReadOnlyList<ComparisonRun<ContrastiveMethod, FairRunSummary>> runs)
        {
            var results = runs.Select(r => r.Result).ToList();
            var biasMetric = BiasMetric(_data);
            var methods = options.Methods.Select(m => Aggregate(NameOf(m), runs.Where(r => r.Variant == m).Select(r => r.Result).ToList())).ToList();
            var plots = FairComparisonReport.WritePlots(options.Run.Output.OutDir, _data.Name, options.Seeds, methods, results, biasMetric);
            var summary = new FairComparisonSummary(_data.Name, results[0].Sensitive, _data.Description, options.Seeds, biasMetric, methods, results,
                Path.Combine(options.Run.Output.OutDir, ComparisonRunner.ReportFileName), plots)
            { Options = options with { Run = options.Run with { Output = options.Run.Output.Recorded } } };
            FairComparisonReport.Write(options, summary);
            return summary;
        }

        public void Dispose() => _data.Dispose();
    }

    /// <summary>A metric's aggregate when every run has a finite value; null when it does not apply (or diverged) in any run.</summary>
    private static MeanStd? OfAll(IReadOnlyList<FairRunSummary> runs, Func<FairRunSummary, double?> metric) =>
        MeanStd.OfAll(runs.Select(r => metric(r) is { } v && double.IsFinite(v) ? v : (double?)null));

    private static FairMethodAggregate Aggregate(string method, IReadOnlyList<FairRunSummary> runs) => new(
        method, runs[0].Params, MeanStd.Of(runs.Select(r => r.FinalTrainLoss)), MeanStd.Of(runs.Select(r => r.TargetAccuracy)),
        OfAll(runs, r => r.ZMse), OfAll(runs, r => r.ZMseOfMean), OfAll(runs, r => r.ZProbeAccuracy), OfAll(runs, r => r.ZMajorityRate),
        OfAll(runs, r => r.EqualizedOdds), OfAll(runs, r => r.EqualizedOddsMax), OfAll(runs, r => r.DemographicParity),
        OfAll(runs, r => r.Attention?.MeanEntropy), OfAll(runs, r => r.Attention?.UniformEntropy), OfAll(runs, r => r.Attention?.DistanceRatio),
        MeanStd.Of(runs.Select(r => r.SamplesPerSecond)), MeanStd.Of(runs.Select(r => r.WallSeconds)), MeanStd.Of(runs.Select(r => r.TrainSeconds)),
        MeanStd.Of(runs.Select(r => r.EvalSeconds)));
}
