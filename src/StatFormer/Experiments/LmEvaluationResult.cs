namespace StatFormer.Experiments;

/// <summary>Clean and attacked perplexities of a model plus its representation diagnostics.</summary>
public sealed record LmEvaluationResult(
    double ValidPpl,
    double TestPpl,
    IReadOnlyDictionary<string, double> AttackedTestPpl,
    IReadOnlyDictionary<string, double> AttackEffectiveRate,
    long EvalTokens,
    IReadOnlyList<double> RepresentationCollapse,
    IReadOnlyDictionary<string, double[]> EllipticalMetric);
