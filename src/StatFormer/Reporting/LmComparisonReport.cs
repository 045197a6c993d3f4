using System.Globalization;
using StatFormer.Comparison;
using StatFormer.IO;
using StatFormer.Language.Experiments;
using StatFormer.Moe;
using StatFormer.Options;

namespace StatFormer.Reporting;

/// <summary>
/// What a language-model comparison shows: its tables (also printed by the CLI), report.md and the plots — learning
/// curves, perplexity against attack rate, the elliptical metric per layer, representation collapse per layer and, for
/// MoE variants, expert load per layer and routing against the latent topic.
/// </summary>
public static class LmComparisonReport
{
    /// <summary>Draws the plots into <paramref name="outDir"/> and returns their file names, in the order the report shows them.</summary>
    /// <param name="attackRates">The nominal word-swap rates (0, the clean test set, is added).</param>
    public static IReadOnlyList<string> WritePlots(string outDir, IReadOnlyList<LmRunResult> runs, IReadOnlyList<double> attackRates)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(attackRates);
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
        var rates = new[] { 0.0 }.Concat(attackRates).ToList();
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
            draw(Path.Combine(outDir, fileName));
            return fileName;
        }
    }

    /// <summary>The comparison table (one row per variant), shared by the report and the CLI.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) Table(LmComparisonSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var header = new List<string> { "variant", "params", "valid ppl", "test ppl" };
        header.AddRange(summary.AttackRates.Select(r => $"attacked {Key(r)}"));
        header.Add(string.Create(CultureInfo.InvariantCulture, $"steps to ppl {summary.TargetValidPpl:F2}"));
        header.Add("tokens/s");
        var rows = summary.Variants.Select(v =>
        {
            var row = new List<string> { v.Variant, v.Params.ToString("N0", CultureInfo.InvariantCulture), v.ValidPpl.Format(2), v.TestPpl.Format(2) };
            row.AddRange(summary.AttackRates.Select(r => v.AttackedTestPpl[Key(r)].Format(2)));
            var runs = summary.Runs.Count(r => r.VariantName == v.Variant);
            row.Add(v.StepsToTarget is { } steps
                ? steps.Format(0) + (v.ReachedTarget < runs ? $" ({v.ReachedTarget}/{runs} reached)" : "")
                : "not reached");
            row.Add(v.TokensPerSecond.Mean.ToString("F0", CultureInfo.InvariantCulture));
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (header, rows);
    }

    /// <summary>The routing-diagnostics table of the MoE variants; null when no variant has MoE layers.</summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)? RoutingTable(LmComparisonSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return RoutingAggregate.Table(summary.Variants.Select(v => (v.Variant, v.Routing)), "topic");
    }

    /// <summary>Writes report.md into the comparison folder.</summary>
    /// <param name="dataDescription">What generated the data (synthetic corpus); null for real text.</param>
    public static void Write(LmComparisonOptions options, LmComparisonSummary summary, string? dataDescription)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(summary);
        var run = options.Run;
        var report = new MarkdownReport($"StatFormer comparison: {string.Join(" vs ", summary.Variants.Select(v => v.Variant))} on {summary.Data}");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Data `{summary.Data}` ({summary.Tokenizer} tokenizer, vocabulary {summary.VocabSize}), {run.Model.Stack.Layers} layers, d_model {run.Model.Stack.DModel}, {run.Model.Stack.Heads} heads, " +
            $"context {run.Model.SeqLen}, batch {run.Data.BatchSize}, {run.Train.Steps} steps, lr {run.Train.LearningRate}, dropout {run.Model.Stack.Dropout}; seeds {string.Join(", ", summary.Seeds)}. " +
            $"Every variant uses the same data, optimiser, step budget, evaluation windows ({summary.EvalTokens} test tokens) and the same word-swap draw " +
            $"({summary.AttackMode}, per {EnumNames.Json(run.Attack.Unit)}, attack seed {run.Attack.Seed}). Elliptical estimator: {EnumNames.Json(run.Model.Stack.EstimatorFor(causal: true))}{(run.Model.Stack.EllipticalUnscaled ? ", unscaled (authors' LM variant)" : ", 1/√D kept")}."));
        if (options.Variants.Any(v => v.Moe != MoeKind.None))
            report.Paragraph(string.Create(CultureInfo.InvariantCulture,
                $"Mixture of Experts: {run.Model.Stack.Moe.Layer.Experts} experts, top-{run.Model.Stack.Moe.Layer.TopK}, MoE layers {(run.Model.Stack.Moe.Every == 1 ? "in every block (Switch layout)" : "in every other block (GLaM layout)")}, " +
                $"each expert's hidden width chosen so a token's active FFN parameters equal the dense FFN's, load-balancing weight {run.Model.Stack.Moe.BalanceWeight}, " +
                $"{(run.Model.Stack.Moe.Layer.CapacityFactor > 0 ? $"capacity factor {run.Model.Stack.Moe.Layer.CapacityFactor} per sequence, first come first served" : "no capacity limit")}; AC variants use the base router on the first {run.Model.Stack.Moe.AcBaseLayers} MoE layer(s) " +
                $"and {(run.Model.Stack.Moe.Layer.AcEstimator == AcEstimator.Running ? "running cluster statistics (causal)" : "the current batch's cluster statistics (the authors' rule, which leaks future tokens)")}."));
        if (dataDescription is not null) report.Paragraph(dataDescription);
        report.Heading("Results (mean ± std over seeds)");
        var (header, rows) = Table(summary);
        report.Table(header, rows);
        report.Paragraph(FormattableString.Invariant($"Convergence: steps until the validation perplexity first reached {summary.TargetValidPpl:F2} ") +
            (options.TargetValidPpl is null ? "(the worst run's best validation perplexity, so every run reaches it)" : "(--target-ppl)") +
            FormattableString.Invariant($", at the validation points (every {run.Train.EvalEvery} steps)."));
        if (RoutingTable(summary) is { } routingTable)
        {
            var (routingHeader, routingRows) = routingTable;
            report.Heading("Routing diagnostics (test windows, mean over MoE layers, mean ± std over seeds)");
            report.Paragraph(RoutingAggregate.Explanation("the generator's latent topic (synthetic data)"));
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
                RunFolder.PerRunFolderName(r.VariantName, r.Seed) + "/",
            }));
        report.Save(Path.Combine(options.Run.Output.OutDir, ComparisonRunner.ReportFileName));
    }

    /// <summary>The key of a nominal attack rate in the summaries ("0.015").</summary>
    private static string Key(double rate) => rate.ToString("0.###", CultureInfo.InvariantCulture);
}
