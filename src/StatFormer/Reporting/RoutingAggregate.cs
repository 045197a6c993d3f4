using StatFormer.Analysis;

namespace StatFormer.Reporting;

/// <summary>
/// An MoE variant's routing diagnostics (means over its MoE layers), mean ± std over seeds; shared by the language and
/// the image comparisons. <see cref="TopicPurity"/> / <see cref="TopicNmi"/> are against the tokens' labels (the
/// "topic" of <see cref="MoeDiagnosticsAccumulator"/>): the synthetic corpus's latent topic for a language model, the
/// image's class for an image model.
/// </summary>
public sealed record RoutingAggregate(
    MeanStd LoadCv,
    MeanStd RouterEntropyNormalized,
    MeanStd DispersionRatio,
    MeanStd? Stability,
    MeanStd? StabilityNmi,
    MeanStd? TopicPurity,
    MeanStd? TopicNmi)
{
    /// <summary>The aggregate over the runs that have routing diagnostics; null when none has (a dense model).</summary>
    public static RoutingAggregate? Of(IEnumerable<MoeDiagnostics?> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var routing = runs.OfType<MoeDiagnostics>().ToList();
        if (routing.Count == 0) return null;
        return new RoutingAggregate(MeanStd.Of(routing.Select(r => r.MeanLoadCv)), MeanStd.Of(routing.Select(r => r.MeanEntropyNormalized)),
            MeanStd.Of(routing.Select(r => r.MeanDispersionRatio)), MeanStd.OfAll(routing.Select(r => r.MeanStability)),
            MeanStd.OfAll(routing.Select(r => r.MeanStabilityNmi)), MeanStd.OfAll(routing.Select(r => r.MeanTopicPurity)),
            MeanStd.OfAll(routing.Select(r => r.MeanTopicNmi)));
    }

    /// <summary>
    /// The routing table of the MoE variants (one row each; dense variants are left out), labelled with what the tokens'
    /// labels are (<paramref name="label"/>: "topic", "class"); null when no variant has routing diagnostics.
    /// </summary>
    public static (IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)? Table(IEnumerable<(string Variant, RoutingAggregate? Routing)> variants, string label)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var moe = variants.Where(v => v.Routing is not null).ToList();
        if (moe.Count == 0) return null;
        var withLabels = moe.All(v => v.Routing!.TopicNmi is not null);
        var header = new List<string> { "variant", "load CV", "router entropy / log E", "dispersion within/total", "top-1 stability (Rand)", "top-1 stability (NMI)" };
        if (withLabels) header.AddRange([$"{label} purity", $"{label} NMI"]);
        static string G(MeanStd? m) => m?.Format(3) ?? "-";
        var rows = moe.Select(v =>
        {
            var r = v.Routing!;
            var row = new List<string> { v.Variant, G(r.LoadCv), G(r.RouterEntropyNormalized), G(r.DispersionRatio), G(r.Stability), G(r.StabilityNmi) };
            if (withLabels) row.AddRange([G(r.TopicPurity), G(r.TopicNmi)]);
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (header, rows);
    }

    /// <summary>What the routing table's columns measure, for a report; <paramref name="labels"/> says what the labels are.</summary>
    public static string Explanation(string labels) =>
        "Load CV: coefficient of variation of the experts' share of assignments (0 = balanced). Router entropy: of the " +
        "softmax over all experts, divided by log E. Dispersion: within-expert / total squared spread of the tokens in the space " +
        "the router scores in, tokens grouped by top-1 expert (lower = tighter clusters). Stability: Rand index and NMI between the top-1 " +
        "partitions of consecutive MoE layers (expert ids differ between layers; two unrelated uniform partitions already have Rand ≈ 1 − 2/E). " +
        $"Purity / NMI: agreement of the top-1 expert with {labels} (purity: the share of tokens whose expert's majority label is theirs; NMI 0 = independent, 1 = the same partition).";
}
