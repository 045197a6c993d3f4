using System.Globalization;
using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.IO;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Moe;
using StatFormer.Reporting;
using StatFormer.Training;

namespace StatFormer.Language.Experiments;

/// <summary>
/// Trains every model variant (attention × feed-forward router) for every seed on equal footing (one
/// dataset, one evaluation set, one attack draw), then writes summary.json, report.md and the plots:
/// learning curves, perplexity against attack rate, the elliptical metric per layer, representation
/// collapse per layer and, for MoE variants, expert load per layer and routing against the latent topic.
/// </summary>
public static class ComparisonExperiment
{
    public const string ReportFileName = "report.md";

    /// <param name="progressFor">Called once per run with its label ("elliptical seed 1") to get a progress sink; may return null.</param>
    /// <param name="log">Status lines (which run starts, which is reused).</param>
    public static ComparisonSummary Run(ComparisonOptions options, Func<string, IProgress<TrainingProgress>?>? progressFor = null,
        Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        if (options.Seeds.Count == 0) throw new UserInputException("--seeds must name at least one seed");
        if (options.Variants.Count == 0) throw new UserInputException("--variants must name at least one model variant");
        if (options.TargetValidPpl is { } target && !(target > 1)) throw new UserInputException($"--target-ppl must be greater than 1 (got {target})");
        // The comparison holds its folder throughout; each run also locks its own subfolder (a different lock file).
        using var folder = IO.RunFolder.Claim(options.OutDir, RunFolderKind.Comparison, options.Resume, options.Overwrite);
        var shared = options.Run;
        var data = LmDataset.Load(shared.Data, shared.Tokenizer, shared.MinCount, shared.MaxVocab, shared.DataSeed);
        var sets = EvaluationSets.Build(data, shared);

        var runs = new List<(LmRunSummary Summary, IReadOnlyList<MetricRecord> History)>();
        foreach (var seed in options.Seeds)
        {
            foreach (var variant in options.Variants)
            {
                var label = $"{variant.Name} seed {seed}";
                var runOptions = shared with
                {
                    Attention = variant.Attention, Moe = variant.Moe, Seed = seed, Resume = options.Resume, Overwrite = options.Overwrite,
                    OutDir = Path.Combine(options.OutDir, RunFolder(variant.Name, seed)),
                };
                var summaryPath = Path.Combine(runOptions.OutDir, LmExperiment.SummaryFileName);
                if (options.Resume && File.Exists(summaryPath))
                {
                    // Reading a finished run locks it too, so a process still writing it is not read half-way.
                    using var reading = IO.RunFolder.Claim(runOptions.OutDir, RunFolderKind.Run, resume: true, overwrite: false);
                    if (IsFinished(runOptions, data, summaryPath))
                    {
                        log?.Invoke($"{label}: finished earlier, reusing {summaryPath}");
                        runs.Add((ReadSummary(summaryPath), MetricsLog.Read(Path.Combine(runOptions.OutDir, Trainer.MetricsFileName))));
                        continue;
                    }
                }
                log?.Invoke($"{label}: training → {runOptions.OutDir}");
                var (summary, training) = LmExperiment.Run(runOptions, progressFor?.Invoke(label), data, sets, cancellationToken);
                runs.Add((summary, training.History));
            }
        }

        var targetPpl = options.TargetValidPpl ?? runs.Max(r => BestValidPpl(r.History));
        var variants = options.Variants.Select(v => Aggregate(v.Name, runs.Where(r => r.Summary.VariantName == v.Name).ToList(), targetPpl)).ToList();
        var plots = WritePlots(options, runs, sets);
        var summaryOut = new ComparisonSummary(
            data.Corpus.Name, data.Tokenizer.Kind, data.Tokenizer.VocabSize, options.Seeds,
            sets.Attacked.Select(a => a.Rate).ToList(), sets.Attacked.ToDictionary(a => a.Key, a => a.EffectiveRate),
            LmExperiment.Name(shared.AttackMode), runs[0].Summary.EvalTokens, targetPpl, variants, runs.Select(r => r.Summary).ToList(),
            Path.Combine(options.OutDir, ReportFileName), plots);
        WriteReport(options, summaryOut, data);
        JsonOutput.WriteFile(Path.Combine(options.OutDir, LmExperiment.SummaryFileName), summaryOut);
        return summaryOut;
    }

    /// <summary>
    /// Whether the run folder's summary is of this very run, finished: same model and tokenizer (else
    /// it is an error, as for resuming) and the same step budget (else it is resumed to the new budget).
    /// </summary>
    private static bool IsFinished(LmRunOptions runOptions, LmDataset data, string summaryPath)
    {
        var config = LmExperiment.ModelConfig(runOptions, data.Tokenizer.VocabSize);
        LmExperiment.EnsureSameRun(runOptions.OutDir, new RunMetadata(config.ToJson(), data.Tokenizer.ToJson(), runOptions.Data, runOptions.DataSeed));
        var summary = ReadSummary(summaryPath);
        return summary.Steps == runOptions.Steps || (summary.StoppedEarly && summary.Steps < runOptions.Steps);
    }

    private static LmRunSummary ReadSummary(string path)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<LmRunSummary>(File.ReadAllText(path), JsonOutput.Options)
                ?? throw new UserInputException($"{path}: empty run summary");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UserInputException($"{path}: not a readable run summary ({e.Message}); delete it to rerun that run");
        }
    }

    private static MeanStd Of(IEnumerable<double> values)
    {
        var list = values.ToList();
        var (mean, std) = Stats.MeanStd(list);
        return new MeanStd(mean, std, list.Count);
    }

    /// <summary>The run folder of a variant and seed ("ac-smoe-seed1").</summary>
    public static string RunFolder(string variant, int seed) => IO.RunFolder.PerRunFolderName(variant, seed);

    /// <summary>Lowest validation perplexity in a run's metrics (∞ if it never validated).</summary>
    private static double BestValidPpl(IReadOnlyList<MetricRecord> history)
    {
        var valid = history.Where(h => h.Split == MetricRecord.ValidSplit && double.IsFinite(h.Loss)).ToList();
        return valid.Count == 0 ? double.PositiveInfinity : Math.Exp(valid.Min(h => h.Loss));
    }

    /// <summary>The first evaluated step whose validation perplexity is at most <paramref name="targetPpl"/>; null if none.</summary>
    public static long? StepsToTarget(IReadOnlyList<MetricRecord> history, double targetPpl) =>
        history.Where(h => h.Split == MetricRecord.ValidSplit && double.IsFinite(h.Loss) && Math.Exp(h.Loss) <= targetPpl * (1 + 1e-12))
            .Select(h => (long?)h.Step).OrderBy(s => s).FirstOrDefault();

    private static VariantAggregate Aggregate(string variant, IReadOnlyList<(LmRunSummary Summary, IReadOnlyList<MetricRecord> History)> group, double targetPpl)
    {
        var runs = group.Select(g => g.Summary).ToList();
        var attacked = runs[0].AttackedTestPpl.Keys.ToDictionary(k => k, k => Of(runs.Select(r => r.AttackedTestPpl[k])));
        var layers = runs.Min(r => r.RepresentationCollapse.Count);
        var collapse = Enumerable.Range(0, layers).Select(l => runs.Average(r => r.RepresentationCollapse[l])).ToList();
        var reached = group.Select(g => StepsToTarget(g.History, targetPpl)).OfType<long>().Select(s => (double)s).ToList();
        return new VariantAggregate(variant, runs[0].Params, Of(runs.Select(r => r.ValidPpl)), Of(runs.Select(r => r.TestPpl)),
            attacked, Of(runs.Select(r => r.TokensPerSecond)), collapse, ContextRatios(runs),
            reached.Count > 0 ? Of(reached) : null, reached.Count, RoutingOf(runs));
    }

    private static RoutingAggregate? RoutingOf(IReadOnlyList<LmRunSummary> runs)
    {
        var routing = runs.Select(r => r.Routing).OfType<MoeDiagnostics>().ToList();
        if (routing.Count == 0) return null;
        MeanStd? Optional(Func<MoeDiagnostics, double?> pick)
        {
            var values = routing.Select(pick).OfType<double>().ToList();
            return values.Count == routing.Count ? Of(values) : null;
        }
        return new RoutingAggregate(Of(routing.Select(r => r.MeanLoadCv)), Of(routing.Select(r => r.MeanEntropyNormalized)),
            Of(routing.Select(r => r.MeanDispersionRatio)), Optional(r => r.MeanStability), Optional(r => r.MeanStabilityNmi), Optional(r => r.MeanTopicPurity), Optional(r => r.MeanTopicNmi));
    }

    /// <summary>Attacked/clean-context perplexity ratio per rate, over the runs that have one (word-aligned data only).</summary>
    private static Dictionary<string, MeanStd> ContextRatios(IReadOnlyList<LmRunSummary> runs)
    {
        if (runs.Any(r => r.ContextAttack.Count == 0)) return new Dictionary<string, MeanStd>();
        return runs[0].ContextAttack.Keys.ToDictionary(k => k, k => Of(runs.Select(r => r.ContextAttack[k].Ratio)));
    }

    private static IReadOnlyList<string> WritePlots(ComparisonOptions options, IReadOnlyList<(LmRunSummary Summary, IReadOnlyList<MetricRecord> History)> runs, EvaluationSets sets)
    {
        var written = new List<string>();
        var byVariant = runs.GroupBy(r => r.Summary.VariantName).ToList();

        // Validation loss against step, mean ± std over seeds at the steps every seed evaluated.
        var curves = new List<Series>();
        foreach (var group in byVariant)
        {
            var perSeed = group.Select(r => r.History.Where(h => h.Split == "valid").ToDictionary(h => h.Step, h => h.Loss)).ToList();
            var steps = perSeed.Select(d => (IEnumerable<long>)d.Keys).Aggregate((a, b) => a.Intersect(b)).OrderBy(s => s).ToList();
            if (steps.Count == 0) continue;
            var stats = steps.Select(s => Stats.MeanStd(perSeed.Select(d => d[s]).ToList())).ToList();
            curves.Add(new Series(group.Key, steps.Select(s => (double)s).ToList(), stats.Select(x => x.Mean).ToList(), stats.Select(x => x.Std).ToList()));
        }
        if (curves.Count > 0)
            written.Add(Plot("learning_curves.png", path => Plots.LineChart(path, "Validation loss (mean ± std over seeds)", "step", "cross-entropy (nats/token)", curves)));

        // Perplexity against attack rate; rate 0 is the clean test set.
        var rates = new[] { 0.0 }.Concat(sets.Attacked.Select(a => a.Rate)).ToList();
        var attack = byVariant.Select(group =>
        {
            var stats = rates.Select(rate => Stats.MeanStd(group.Select(r => rate == 0 ? r.Summary.TestPpl : r.Summary.AttackedTestPpl[Key(rate)]).ToList())).ToList();
            return new Series(group.Key, rates, stats.Select(x => x.Mean).ToList(), stats.Select(x => x.Std).ToList());
        }).ToList();
        written.Add(Plot("ppl_vs_attack_rate.png", path => Plots.LineChart(path, "Test perplexity under word swap (mean ± std over seeds)", "word-swap rate (0 = clean)", "perplexity", attack)));

        // The learned metric m per elliptical layer, averaged over seeds.
        var elliptical = runs.Where(r => r.Summary.EllipticalMetric.Count > 0).Select(r => r.Summary.EllipticalMetric).ToList();
        if (elliptical.Count > 0)
        {
            var layers = elliptical[0].Keys.OrderBy(k => int.Parse(k, CultureInfo.InvariantCulture)).ToList();
            var width = elliptical[0][layers[0]].Length;
            var matrix = new double[layers.Count, width];
            for (var i = 0; i < layers.Count; i++)
                for (var j = 0; j < width; j++)
                    matrix[i, j] = elliptical.Average(m => m[layers[i]][j]);
            var config = runs[0].Summary.Config;
            var headDim = config.Stack.DModel / config.Stack.Heads;
            // Label only the first coordinate of each head; the heads' D coordinates follow in order.
            var columns = Enumerable.Range(0, width).Select(j => j % headDim == 0 ? $"head {j / headDim}" : "").ToList();
            written.Add(Plot("elliptical_metric.png", path => Plots.Heatmap(path, "Elliptical metric m per layer and coordinate, mean over seeds and test windows",
                matrix, layers.Select(l => $"layer {l}").ToList(), columns, "m")));
        }

        // Representation collapse per layer.
        var collapse = byVariant.Select(group =>
        {
            var layerCount = group.Min(r => r.Summary.RepresentationCollapse.Count);
            var stats = Enumerable.Range(0, layerCount).Select(l => Stats.MeanStd(group.Select(r => r.Summary.RepresentationCollapse[l]).ToList())).ToList();
            return new Series(group.Key, Enumerable.Range(0, layerCount).Select(l => (double)l).ToList(), stats.Select(x => x.Mean).ToList(), stats.Select(x => x.Std).ToList());
        }).Where(s => s.X.Count > 0).ToList();
        if (collapse.Count > 0)
            written.Add(Plot("representation_collapse.png", path => Plots.LineChart(path, "Representation collapse: mean pairwise cosine of token states", "layer", "mean cosine similarity", collapse)));

        // MoE variants: expert load per layer and routing against the latent topic, of the first seed's run
        // (expert ids are arbitrary per run, so averaging them over seeds would mean nothing).
        foreach (var group in byVariant)
        {
            var first = group.First().Summary;
            if (first.Routing is not { } routing) continue;
            written.Add(Plot($"expert_load_{first.VariantName}.png", path => MoePlots.ExpertLoadHeatmap(path, routing,
                $"{first.VariantName}: fraction of top-{first.Config.Stack.Moe.Layer.TopK} assignments per expert (seed {first.Seed})")));
            if (routing.Layers[^1].TopicConfusion is not null)
                written.Add(Plot($"topic_confusion_{first.VariantName}.png", path => MoePlots.TopicConfusionHeatmap(path, routing.Layers[^1],
                    $"{first.VariantName}: last MoE layer's top-1 expert vs latent topic (seed {first.Seed})")));
        }
        return written;

        string Plot(string fileName, Action<string> draw)
        {
            draw(Path.Combine(options.OutDir, fileName));
            return fileName;
        }
    }

    private static string Key(double rate) => rate.ToString("0.###", CultureInfo.InvariantCulture);

    private static string F(MeanStd m) => m.N > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{m.Mean:F2} ± {m.Std:F2}")
        : string.Create(CultureInfo.InvariantCulture, $"{m.Mean:F2}");

    /// <summary>The comparison table (one row per variant), shared by the report and the CLI.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) Table(ComparisonSummary summary)
    {
        var header = new List<string> { "variant", "params", "valid ppl", "test ppl" };
        header.AddRange(summary.AttackRates.Select(r => $"attacked {Key(r)}"));
        header.Add(string.Create(CultureInfo.InvariantCulture, $"steps to ppl {summary.TargetValidPpl:F2}"));
        header.Add("tokens/s");
        var rows = summary.Variants.Select(v =>
        {
            var row = new List<string> { v.Variant, v.Params.ToString("N0", CultureInfo.InvariantCulture), F(v.ValidPpl), F(v.TestPpl) };
            row.AddRange(summary.AttackRates.Select(r => F(v.AttackedTestPpl[Key(r)])));
            var runs = summary.Runs.Count(r => r.VariantName == v.Variant);
            row.Add(v.StepsToTarget is { } steps
                ? (v.StepsToTarget.N > 1 ? string.Create(CultureInfo.InvariantCulture, $"{steps.Mean:F0} ± {steps.Std:F0}") : steps.Mean.ToString("F0", CultureInfo.InvariantCulture))
                  + (v.ReachedTarget < runs ? $" ({v.ReachedTarget}/{runs} reached)" : "")
                : "not reached");
            row.Add(v.TokensPerSecond.Mean.ToString("F0", CultureInfo.InvariantCulture));
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (header, rows);
    }

    /// <summary>The routing-diagnostics table of the MoE variants; null when no variant has MoE layers.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)? RoutingTable(ComparisonSummary summary)
    {
        var moe = summary.Variants.Where(v => v.Routing is not null).ToList();
        if (moe.Count == 0) return null;
        var withTopics = moe.All(v => v.Routing!.TopicNmi is not null);
        var header = new List<string> { "variant", "load CV", "router entropy / log E", "dispersion within/total", "top-1 stability (Rand)", "top-1 stability (NMI)" };
        if (withTopics) header.AddRange(new[] { "topic purity", "topic NMI" });
        string G(MeanStd? m) => m is null ? "-" : m.N > 1
            ? string.Create(CultureInfo.InvariantCulture, $"{m.Mean:F3} ± {m.Std:F3}")
            : string.Create(CultureInfo.InvariantCulture, $"{m.Mean:F3}");
        var rows = moe.Select(v =>
        {
            var r = v.Routing!;
            var row = new List<string> { v.Variant, G(r.LoadCv), G(r.RouterEntropyNormalized), G(r.DispersionRatio), G(r.Stability), G(r.StabilityNmi) };
            if (withTopics) row.AddRange(new[] { G(r.TopicPurity), G(r.TopicNmi) });
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (header, rows);
    }

    private static void WriteReport(ComparisonOptions options, ComparisonSummary summary, LmDataset data)
    {
        var run = options.Run;
        var report = new MarkdownReport($"StatFormer comparison: {string.Join(" vs ", summary.Variants.Select(v => v.Variant))} on {summary.Data}");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Data `{summary.Data}` ({summary.Tokenizer} tokenizer, vocabulary {summary.VocabSize}), {run.Layers} layers, d_model {run.DModel}, {run.Heads} heads, " +
            $"context {run.SeqLen}, batch {run.BatchSize}, {run.Steps} steps, lr {run.LearningRate}, dropout {run.Dropout}; seeds {string.Join(", ", summary.Seeds)}. " +
            $"Every variant uses the same data, optimiser, step budget, evaluation windows ({summary.EvalTokens} test tokens) and the same word-swap draw " +
            $"({summary.AttackMode}, per {LmExperiment.Name(run.AttackUnit)}, attack seed {run.AttackSeed}). Elliptical estimator: {LmExperiment.Name(run.Estimator)}{(run.EllipticalUnscaled ? ", unscaled (authors' LM variant)" : ", 1/√D kept")}."));
        if (options.Variants.Any(v => v.Moe != MoeKind.None))
            report.Paragraph(string.Create(CultureInfo.InvariantCulture,
                $"Mixture of Experts: {run.Experts} experts, top-{run.TopK}, MoE layers {(run.MoeEvery == 1 ? "in every block (Switch layout)" : "in every other block (GLaM layout)")}, " +
                $"each expert's hidden width chosen so a token's active FFN parameters equal the dense FFN's, load-balancing weight {run.BalanceWeight}, " +
                $"{(run.CapacityFactor > 0 ? $"capacity factor {run.CapacityFactor} per sequence, first come first served" : "no capacity limit")}; AC variants use the base router on the first {run.AcBaseLayers} MoE layer(s) " +
                $"and {(run.AcEstimator == AcEstimator.Running ? "running cluster statistics (causal)" : "the current batch's cluster statistics (the authors' rule, which leaks future tokens)")}."));
        if (data.SyntheticCorpus is not null) report.Paragraph(data.SyntheticCorpus.Description);
        report.Heading("Results (mean ± std over seeds)");
        var (header, rows) = Table(summary);
        report.Table(header, rows);
        report.Paragraph(FormattableString.Invariant($"Convergence: steps until the validation perplexity first reached {summary.TargetValidPpl:F2} ") +
            (options.TargetValidPpl is null ? "(the worst run's best validation perplexity, so every run reaches it)" : "(--target-ppl)") +
            FormattableString.Invariant($", at the validation points (every {run.EvalEvery} steps)."));
        if (RoutingTable(summary) is { } routingTable)
        {
            var (routingHeader, routingRows) = routingTable;
            report.Heading("Routing diagnostics (test windows, mean over MoE layers, mean ± std over seeds)");
            report.Paragraph("Load CV: coefficient of variation of the experts' share of assignments (0 = balanced). Router entropy: of the " +
                "softmax over all experts, divided by log E. Dispersion: within-expert / total squared spread of the tokens in the space " +
                "the router scores in, tokens grouped by top-1 expert (lower = tighter clusters). Stability: Rand index and NMI between the top-1 " +
                "partitions of consecutive MoE layers (expert ids differ between layers; two unrelated uniform partitions already have Rand ≈ 1 − 2/E). Topic purity / NMI (synthetic data): agreement of the top-1 expert with the generator's latent topic.");
            report.Table(routingHeader, routingRows);
        }
        report.Paragraph("Effective word-swap rates (fraction of all test words replaced; every non-empty line or paragraph gets at least one swap): " +
            string.Join(", ", summary.AttackEffectiveRate.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} → {kv.Value:P2}"))) + ".");
        if (summary.Variants.All(v => v.ContextAttackRatio.Count > 0))
        {
            report.Paragraph("Context attack: perplexity at the targets the attack left untouched (the same tokens of the text in both " +
                "streams), with the attacked context divided by the same with the clean context — the damage done to the remaining " +
                "predictions, without scoring the replaced tokens (e.g. cheap <unk> targets). 1 = no damage.");
            var rates = summary.Variants[0].ContextAttackRatio.Keys.ToList();
            report.Table(new[] { "variant" }.Concat(rates.Select(r => $"ratio at {r}")).ToList(),
                summary.Variants.Select(v => (IReadOnlyList<string>)new[] { v.Variant }.Concat(rates.Select(r =>
                    string.Create(CultureInfo.InvariantCulture, $"{v.ContextAttackRatio[r].Mean:F4} ± {v.ContextAttackRatio[r].Std:F4}"))).ToList()));
        }
        report.Heading("Plots");
        foreach (var plot in summary.Plots) report.Image(plot, plot);
        report.Heading("Runs");
        report.Table(new[] { "variant", "seed", "steps", "best step", "valid ppl", "test ppl", "tokens/s", "folder" },
            summary.Runs.Select(r => (IReadOnlyList<string>)new[]
            {
                r.VariantName, r.Seed.ToString(CultureInfo.InvariantCulture), r.Steps.ToString(CultureInfo.InvariantCulture),
                r.BestStep?.ToString(CultureInfo.InvariantCulture) ?? "-", r.ValidPpl.ToString("F2", CultureInfo.InvariantCulture),
                r.TestPpl.ToString("F2", CultureInfo.InvariantCulture), r.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                RunFolder(r.VariantName, r.Seed) + "/",
            }));
        report.Save(Path.Combine(options.OutDir, ReportFileName));
    }
}
