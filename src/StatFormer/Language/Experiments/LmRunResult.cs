using StatFormer.Training;

namespace StatFormer.Language.Experiments;

/// <summary>One finished language-model run of a comparison: its summary.json and its metrics.jsonl records.</summary>
public sealed record LmRunResult(LmRunSummary Summary, IReadOnlyList<MetricRecord> History);
