using StatFormer.Reporting;

namespace StatFormer.Language.Experiments;

/// <summary>One model variant's results aggregated over seeds.</summary>
/// <param name="StepsToTarget">Steps until the validation perplexity first reached the comparison's target (runs that never did are left out; see <paramref name="ReachedTarget"/>).</param>
/// <param name="Routing">MoE variants: routing diagnostics averaged over seeds; null for dense models.</param>
public sealed record VariantAggregate(
    string Variant,
    long Params,
    MeanStd ValidPpl,
    MeanStd TestPpl,
    IReadOnlyDictionary<string, MeanStd> AttackedTestPpl,
    MeanStd TokensPerSecond,
    IReadOnlyList<double> RepresentationCollapse,
    IReadOnlyDictionary<string, MeanStd> ContextAttackRatio,
    MeanStd? StepsToTarget,
    int ReachedTarget,
    RoutingAggregate? Routing);

/// <summary>What `statformer compare` writes to summary.json and prints with --json.</summary>
public sealed record LmComparisonSummary(
    string Data,
    string Tokenizer,
    int VocabSize,
    IReadOnlyList<int> Seeds,
    IReadOnlyList<double> AttackRates,
    IReadOnlyDictionary<string, double> AttackEffectiveRate,
    string AttackMode,
    long EvalTokens,
    double TargetValidPpl,
    IReadOnlyList<VariantAggregate> Variants,
    IReadOnlyList<LmRunSummary> Runs,
    string Report,
    IReadOnlyList<string> Plots)
{
    /// <summary>The resolved options the comparison ran with (its run tree, variants, seeds); null in summaries of older builds.</summary>
    public LmComparisonOptions? Options { get; init; }
}
