namespace StatFormer.Analysis;

/// <summary>
/// Routing diagnostics of one MoE layer over all evaluated tokens (see <see cref="MoeDiagnosticsAccumulator"/>).
/// Plain numbers and arrays only, so it serialises directly to JSON.
/// </summary>
/// <param name="Layer">0-based index among the MoE layers, in model order.</param>
/// <param name="Load">Fraction of all top-k assignments (every slot counted) that went to each expert; sums to 1.</param>
/// <param name="Top1Load">Fraction of tokens whose top-1 (column 0) expert is each expert; sums to 1.</param>
/// <param name="LoadCv">Coefficient of variation of <paramref name="Load"/>: population std / mean (0 = perfectly balanced).</param>
/// <param name="RouterEntropy">Mean over tokens of −Σ_e p_e log p_e, p = softmax of the router logits over all experts, in nats.</param>
/// <param name="RouterEntropyNormalized"><paramref name="RouterEntropy"/> / log E (1 = uniform routing distribution).</param>
/// <param name="DispersionRatio">Within-expert / total dispersion of the routing features, tokens clustered by top-1 expert
/// (0 = each expert's tokens coincide, 1 = no tighter than all tokens); NaN if all features are equal.</param>
/// <param name="ExpertMeanSquaredDistance">Per expert, mean squared distance of its top-1 tokens' routing features to
/// their mean; NaN for experts that were never top-1.</param>
/// <param name="TopicPurity">Purity of the top-1 expert partition w.r.t. the topic labels; null without labelled tokens.</param>
/// <param name="TopicNmi">NMI between top-1 expert and topic; null without labelled tokens.</param>
/// <param name="TopicConfusion">Token counts [expert][topic] (top-1 expert × topic); null without labelled tokens.</param>
public sealed record MoeLayerDiagnostics(
    int Layer,
    IReadOnlyList<double> Load,
    IReadOnlyList<double> Top1Load,
    double LoadCv,
    double RouterEntropy,
    double RouterEntropyNormalized,
    double DispersionRatio,
    IReadOnlyList<double> ExpertMeanSquaredDistance,
    double? TopicPurity,
    double? TopicNmi,
    double[][]? TopicConfusion);
