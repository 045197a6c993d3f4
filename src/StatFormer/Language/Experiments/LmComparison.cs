using StatFormer.Comparison;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Training;
using Device = TorchSharp.torch.Device;

namespace StatFormer.Language.Experiments;

/// <summary>
/// Trains every model variant (attention × feed-forward router) for every seed on equal footing (one dataset, one
/// evaluation set, one attack draw) through <see cref="ComparisonRunner"/>, and aggregates perplexities, attacked
/// perplexities, throughput, convergence, representation collapse and routing over seeds; <see cref="LmComparisonReport"/>
/// writes report.md and the plots.
/// </summary>
public static class LmComparison
{
    /// <param name="progressFor">Called once per run with its label ("elliptical seed 1") to get a progress sink; may return null.</param>
    /// <param name="log">Status lines (which run starts, which is reused).</param>
    /// <param name="device">Where every run trains and evaluates (default: the CPU).</param>
    public static LmComparisonSummary Run(LmComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options.OptionCheck.Require(options.Shard is null, nameof(LmComparisonOptions.Shard), "runs a share of a comparison: `compare --shard I/N` (RunShard)");
        var output = options.Run.Output;
        var plan = new ComparisonPlan<ModelVariant>(options.Variants, options.Seeds, output.OutDir, output.Resume, output.Overwrite);
        return ComparisonRunner.Run(plan, () => new VariantRuns(options, device), progressFor, log, cancellationToken);
    }

    /// <summary>Runs this machine's share (<see cref="LmComparisonOptions.Shard"/>) of the comparison into its shared folder; see <see cref="ComparisonRunner.RunShard"/>.</summary>
    public static ComparisonShardResult RunShard(LmComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var shard = ComparisonShard.Require(options.Shard, nameof(LmComparisonOptions.Shard));
        var output = options.Run.Output;
        var plan = new ComparisonPlan<ModelVariant>(options.Variants, options.Seeds, output.OutDir, output.Resume, output.Overwrite, shard);
        return ComparisonRunner.RunShard(plan, () => new VariantRuns(options, device), progressFor, log, cancellationToken);
    }

    /// <summary>The first evaluated step whose validation perplexity is at most <paramref name="targetPpl"/>; null if none.</summary>
    public static long? StepsToTarget(IReadOnlyList<MetricRecord> history, double targetPpl) =>
        history.Where(h => h.Split == MetricRecord.ValidSplit && double.IsFinite(h.Loss) && Math.Exp(h.Loss) <= targetPpl * (1 + 1e-12))
            .Select(h => (long?)h.Step).OrderBy(s => s).FirstOrDefault();

    /// <summary>Lowest validation perplexity in a run's metrics (∞ if it never validated).</summary>
    private static double BestValidPpl(IReadOnlyList<MetricRecord> history)
    {
        var valid = history.Where(h => h.Split == MetricRecord.ValidSplit && double.IsFinite(h.Loss)).ToList();
        return valid.Count == 0 ? double.PositiveInfinity : Math.Exp(valid.Min(h => h.Loss));
    }

    /// <summary>The language-model runs of a comparison: the data and the evaluation streams are loaded once and shared by every run.</summary>
    private sealed class VariantRuns : IComparisonDomain<ModelVariant, LmRunResult, LmComparisonSummary>
    {
        private readonly LmComparisonOptions _options;
        private readonly LmDataset _data;
        private readonly EvaluationSets _sets;
        private readonly Device? _device;

        public VariantRuns(LmComparisonOptions options, Device? device)
        {
            _options = options;
            _device = device;
            var shared = options.Run;
            _data = LmDataset.Load(shared.Data);
            _sets = EvaluationSets.Build(_data, shared);
        }

        public string NameOf(ModelVariant variant) => variant.Name;

        /// <summary>The shared run settings with this run's variant, seed and folder: the only per-run difference.</summary>
        private LmRunOptions RunOptions(ModelVariant variant, int seed, string runFolder) => _options.Run with
        {
            Model = _options.Run.Model with { Stack = _options.Run.Model.Stack with { Attention = variant.Attention, Moe = _options.Run.Model.Stack.Moe with { Router = variant.Moe } } },
            Train = _options.Run.Train with { Seed = seed },
            Output = _options.Run.Output with { OutDir = runFolder },
        };

        /// <summary>
        /// The run folder's summary when it is of this very run, finished: same model and tokenizer (else it is an error, as
        /// for resuming) and the same step budget, or fewer steps because it stopped early (else it is resumed to the new budget).
        /// </summary>
        public LmRunResult? ReadFinished(ModelVariant variant, int seed, string runFolder)
        {
            var runOptions = RunOptions(variant, seed, runFolder);
            var config = LmExperiment.ModelConfig(runOptions, _data.Tokenizer.VocabSize);
            LmExperiment.EnsureSameRun(runFolder, new LmRunMetadata(config.ToJson(), _data.Tokenizer.ToJson(), runOptions.Data.Description, runOptions.Data.DataSeed));
            var summary = ReadSummary(Path.Combine(runFolder, LmExperiment.SummaryFileName));
            if (!(summary.Steps == runOptions.Train.Steps || (summary.StoppedEarly && summary.Steps < runOptions.Train.Steps))) return null;
            return new LmRunResult(summary, MetricsLog.Read(Path.Combine(runFolder, Trainer.MetricsFileName)));
        }

        public LmRunResult Run(ModelVariant variant, int seed, string runFolder, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
        {
            var (summary, training) = LmExperiment.Run(RunOptions(variant, seed, runFolder), progress, _data, _sets, cancellationToken, _device);
            return new LmRunResult(summary, training.History);
        }

        public string? WarningAbout(LmRunResult run) => null;

        public LmComparisonSummary Summarize(IReadOnlyList<ComparisonRun<ModelVariant, LmRunResult>> runs)
        {
            var results = runs.Select(r => r.Result).ToList();
            var targetPpl = _options.TargetValidPpl ?? results.Max(r => BestValidPpl(r.History));
            var variants = _options.Variants.Select(v => Aggregate(v.Name, runs.Where(r => r.Name == v.Name).Select(r => r.Result).ToList(), targetPpl)).ToList();
            var attacked = _sets.Attacked;
            var plots = LmComparisonReport.WritePlots(_options.Run.Output.OutDir, results, attacked.Select(a => a.Rate).ToList());
            var summary = new LmComparisonSummary(
                _data.Corpus.Name, _data.Tokenizer.Kind, _data.Tokenizer.VocabSize, _options.Seeds,
                attacked.Select(a => a.Rate).ToList(), attacked.ToDictionary(a => a.Key, a => a.EffectiveRate),
                EnumNames.Json(_options.Run.Attack.Mode), results[0].Summary.EvalTokens, targetPpl, variants, results.Select(r => r.Summary).ToList(),
                Path.Combine(_options.Run.Output.OutDir, ComparisonRunner.ReportFileName), plots)
            { Options = _options with { Run = _options.Run with { Output = _options.Run.Output.Recorded } } };
            LmComparisonReport.Write(_options, summary, _data.SyntheticCorpus?.Description);
            return summary;
        }
    }

    private static LmRunSummary ReadSummary(string path)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<LmRunSummary>(File.ReadAllText(path), JsonOutput.Options)
                ?? throw new InvalidDataException($"{path}: empty run summary");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not a readable run summary ({e.Message}); delete it to rerun that run", e);
        }
    }

    private static VariantAggregate Aggregate(string variant, IReadOnlyList<LmRunResult> group, double targetPpl)
    {
        var runs = group.Select(g => g.Summary).ToList();
        var attacked = runs[0].AttackedTestPpl.Keys.ToDictionary(k => k, k => MeanStd.Of(runs.Select(r => r.AttackedTestPpl[k])));
        var layers = runs.Min(r => r.RepresentationCollapse.Count);
        var collapse = Enumerable.Range(0, layers).Select(l => runs.Average(r => r.RepresentationCollapse[l])).ToList();
        var reached = group.Select(g => StepsToTarget(g.History, targetPpl)).OfType<long>().Select(s => (double)s).ToList();
        return new VariantAggregate(variant, runs[0].Params, MeanStd.Of(runs.Select(r => r.ValidPpl)), MeanStd.Of(runs.Select(r => r.TestPpl)),
            attacked, MeanStd.Of(runs.Select(r => r.TokensPerSecond)), collapse, ContextRatios(runs),
            reached.Count > 0 ? MeanStd.Of(reached) : null, reached.Count, RoutingAggregate.Of(runs.Select(r => r.Routing)));
    }

    /// <summary>Attacked/clean-context perplexity ratio per rate, over the runs that have one (word-aligned data only).</summary>
    private static Dictionary<string, MeanStd> ContextRatios(IReadOnlyList<LmRunSummary> runs)
    {
        if (runs.Any(r => r.ContextAttack.Count == 0)) return new Dictionary<string, MeanStd>();
        return runs[0].ContextAttack.Keys.ToDictionary(k => k, k => MeanStd.Of(runs.Select(r => r.ContextAttack[k].Ratio)));
    }
}
