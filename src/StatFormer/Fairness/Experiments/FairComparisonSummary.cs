namespace StatFormer.Fairness.Experiments;

/// <summary>What `statformer fair compare` writes to summary.json and prints with --json.</summary>
/// <param name="BiasMetric">The per-dataset bias axis of the report and plot: "z_mse" (continuous z, higher = more removed) or "equalized_odds" (lower = fairer).</param>
public sealed record FairComparisonSummary(
    string Data,
    string Sensitive,
    string DataDescription,
    IReadOnlyList<int> Seeds,
    string BiasMetric,
    IReadOnlyList<FairMethodAggregate> Methods,
    IReadOnlyList<FairRunSummary> Runs,
    string Report,
    IReadOnlyList<string> Plots)
{
    /// <summary>The resolved options the comparison ran with (its run tree, methods, seeds); null in summaries of older builds.</summary>
    public FairComparisonOptions? Options { get; init; }
}
