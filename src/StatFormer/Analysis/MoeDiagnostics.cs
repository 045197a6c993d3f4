namespace StatFormer.Analysis;

/// <summary>
/// Routing diagnostics of a Mixture-of-Experts model over an evaluation set: per MoE layer (<see cref="Layers"/>, model
/// order) and between consecutive MoE layers. Produced by <see cref="MoeDiagnosticsAccumulator.Result"/>.
/// </summary>
/// <param name="Tokens">Tokens evaluated (per layer).</param>
/// <param name="Layers">One entry per MoE layer, in model order.</param>
/// <param name="StabilityRandIndex">Length layers−1: Rand index between the top-1 partitions of MoE layers ℓ and ℓ+1.
/// Expert ids are unrelated between layers (expert 3 of one layer has nothing to do with expert 3 of the next), so
/// "top-1 stability" is measured as agreement of the two partitions of the tokens, which ignores the ids: the
/// fraction of token pairs whose same-expert/different-expert relation is kept. With E experts two independent
/// uniform partitions already score about 1 − 2/E + 2/E², so read it against that level.</param>
/// <param name="StabilityNmi">Length layers−1: NMI between consecutive layers' top-1 partitions (0 = independent, 1 = same
/// partition up to relabelling).</param>
/// <param name="MeanLoadCv">Mean over layers of <see cref="MoeLayerDiagnostics.LoadCv"/>.</param>
/// <param name="MeanEntropy">Mean over layers of <see cref="MoeLayerDiagnostics.RouterEntropy"/> (nats).</param>
/// <param name="MeanEntropyNormalized">Mean over layers of <see cref="MoeLayerDiagnostics.RouterEntropyNormalized"/>.</param>
/// <param name="MeanDispersionRatio">Mean over layers of <see cref="MoeLayerDiagnostics.DispersionRatio"/>.</param>
/// <param name="MeanTopicPurity">Mean over layers of the topic purity; null without topic labels.</param>
/// <param name="MeanTopicNmi">Mean over layers of the topic NMI; null without topic labels.</param>
/// <param name="MeanStability">Mean of <paramref name="StabilityRandIndex"/>; null with a single MoE layer.</param>
/// <param name="MeanStabilityNmi">Mean of <paramref name="StabilityNmi"/>; null with a single MoE layer.</param>
public sealed record MoeDiagnostics(
    long Tokens,
    IReadOnlyList<MoeLayerDiagnostics> Layers,
    IReadOnlyList<double> StabilityRandIndex,
    IReadOnlyList<double> StabilityNmi,
    double MeanLoadCv,
    double MeanEntropy,
    double MeanEntropyNormalized,
    double MeanDispersionRatio,
    double? MeanTopicPurity,
    double? MeanTopicNmi,
    double? MeanStability,
    double? MeanStabilityNmi);
