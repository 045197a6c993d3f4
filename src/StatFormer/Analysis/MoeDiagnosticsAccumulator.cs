using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Analysis;

/// <summary>
/// Accumulates routing diagnostics of a Mixture-of-Experts model over evaluation batches; <see cref="Result"/> turns
/// them into a <see cref="MoeDiagnostics"/>. Per MoE layer: expert load over all top-k slots and over top-1, router
/// entropy, dispersion of the routing features clustered by top-1 expert, and (with topic labels) the top-1 expert ×
/// topic contingency table; between consecutive MoE layers, the top-1(ℓ) × top-1(ℓ+1) contingency table.
/// Everything is kept as exact counts or double sums, so the result does not depend on how tokens are split into batches.
/// </summary>
public sealed class MoeDiagnosticsAccumulator
{
    private readonly long[][] _assignments;       // [layer][expert], all top-k slots
    private readonly long[][] _top1;              // [layer][expert]
    private readonly double[] _entropySum;        // [layer], Σ over tokens of the routing entropy (nats)
    private readonly ClusterDispersion[] _dispersion;
    private readonly long[][,]? _topicConfusion;  // [layer][expert, topic]
    private readonly long[][,] _transitions;      // [layer−1][expert of ℓ, expert of ℓ+1]
    private long _tokens;
    private long _labelledTokens;

    /// <param name="layers">Number of MoE layers.</param>
    /// <param name="experts">Experts per MoE layer (at least 2).</param>
    /// <param name="topics">Number of latent topic labels, or 0 when tokens carry none.</param>
    public MoeDiagnosticsAccumulator(int layers, int experts, int topics)
    {
        if (layers < 1) throw new ArgumentException($"need at least one MoE layer, got {layers}.", nameof(layers));
        if (experts < 2) throw new ArgumentException($"need at least two experts, got {experts}.", nameof(experts));
        if (topics < 0) throw new ArgumentException($"topics must be 0 (none) or positive, got {topics}.", nameof(topics));
        Layers = layers;
        Experts = experts;
        Topics = topics;
        _assignments = Enumerable.Range(0, layers).Select(_ => new long[experts]).ToArray();
        _top1 = Enumerable.Range(0, layers).Select(_ => new long[experts]).ToArray();
        _entropySum = new double[layers];
        _dispersion = Enumerable.Range(0, layers).Select(_ => new ClusterDispersion(experts)).ToArray();
        _topicConfusion = topics > 0 ? Enumerable.Range(0, layers).Select(_ => new long[experts, topics]).ToArray() : null;
        _transitions = Enumerable.Range(0, layers - 1).Select(_ => new long[experts, experts]).ToArray();
    }

    public int Layers { get; }
    public int Experts { get; }
    public int Topics { get; }

    /// <summary>Tokens added so far (each counted once, not once per layer).</summary>
    public long Tokens => _tokens;

    /// <summary>
    /// Adds one evaluation batch of N tokens. The whole batch is checked before anything is added, so a rejected batch
    /// leaves the accumulator unchanged.
    /// </summary>
    /// <param name="perLayer">One entry per MoE layer in model order: TopIndices int64 [N, k] (column 0 = the top-1
    /// expert, so top-k must be sorted), RouterLogits float [N, E], RoutingFeatures float [N, r] (the space the router
    /// scores in; r fixed per layer across batches).</param>
    /// <param name="topics">Optional latent topic of each of the N tokens, in [0, topics) or −1 = unknown (skipped).</param>
    public void AddBatch(IReadOnlyList<MoeLayerRouting> perLayer, int[]? topics)
    {
        using var scope = torch.NewDisposeScope();
        var top1 = Validate(perLayer, topics);
        long n = top1[0].Length;

        int[]? previousTop1 = null;
        for (int l = 0; l < Layers; l++)
        {
            var (topIndices, logits, features) = perLayer[l];
            var indices = topIndices.detach().cpu();
            var slotCounts = torch.bincount(indices.flatten(), minlength: Experts).data<long>().ToArray();
            for (int e = 0; e < Experts; e++) _assignments[l][e] += slotCounts[e];
            foreach (var e in top1[l]) _top1[l][e]++;

            // p log p with p = 0 (a −inf logit) contributes 0, not 0·(−inf) = NaN.
            var logP = logits.detach().cpu().to_type(ScalarType.Float64).log_softmax(1);
            var p = logP.exp();
            _entropySum[l] -= (p * logP).masked_fill(p.eq(0), 0.0).sum().item<double>();

            _dispersion[l].Add(features, indices.select(1, 0).contiguous());

            if (topics is not null)
                Add(_topicConfusion![l], ClusteringAgreement.Contingency(top1[l], topics, Experts, Topics));
            if (previousTop1 is not null)
                Add(_transitions[l - 1], ClusteringAgreement.Contingency(previousTop1, top1[l], Experts, Experts));
            previousTop1 = top1[l];
        }
        _tokens += n;
        if (topics is not null) _labelledTokens += topics.LongLength - topics.Count(t => t == -1);
    }

    /// <summary>The diagnostics of all tokens added so far.</summary>
    public MoeDiagnostics Result()
    {
        if (_tokens == 0) throw new InvalidOperationException("No tokens were added; call AddBatch first.");
        double logExperts = Math.Log(Experts);
        bool withTopics = _topicConfusion is not null && _labelledTokens > 0;
        var layers = new List<MoeLayerDiagnostics>(Layers);
        for (int l = 0; l < Layers; l++)
        {
            var load = Fractions(_assignments[l]);
            double mean = load.Average();
            double std = Math.Sqrt(load.Sum(x => (x - mean) * (x - mean)) / load.Length);
            double entropy = _entropySum[l] / _tokens;
            var confusion = withTopics ? _topicConfusion![l] : null;
            layers.Add(new MoeLayerDiagnostics(
                Layer: l,
                Load: load,
                Top1Load: Fractions(_top1[l]),
                LoadCv: std / mean,
                RouterEntropy: entropy,
                RouterEntropyNormalized: entropy / logExperts,
                DispersionRatio: _dispersion[l].WithinToTotalRatio,
                ExpertMeanSquaredDistance: _dispersion[l].PerClusterMeanSquaredDistance,
                TopicPurity: confusion is null ? null : ClusteringAgreement.Purity(confusion),
                TopicNmi: confusion is null ? null : ClusteringAgreement.NormalizedMutualInformation(confusion),
                TopicConfusion: confusion is null ? null : ToJagged(confusion)));
        }
        var stabilityRand = _transitions.Select(ClusteringAgreement.RandIndex).ToArray();
        var stabilityNmi = _transitions.Select(ClusteringAgreement.NormalizedMutualInformation).ToArray();
        return new MoeDiagnostics(
            Tokens: _tokens,
            Layers: layers,
            StabilityRandIndex: stabilityRand,
            StabilityNmi: stabilityNmi,
            MeanLoadCv: layers.Average(x => x.LoadCv),
            MeanEntropy: layers.Average(x => x.RouterEntropy),
            MeanEntropyNormalized: layers.Average(x => x.RouterEntropyNormalized),
            MeanDispersionRatio: layers.Average(x => x.DispersionRatio),
            MeanTopicPurity: withTopics ? layers.Average(x => x.TopicPurity!.Value) : null,
            MeanTopicNmi: withTopics ? layers.Average(x => x.TopicNmi!.Value) : null,
            MeanStability: stabilityRand.Length > 0 ? stabilityRand.Average() : null,
            MeanStabilityNmi: stabilityNmi.Length > 0 ? stabilityNmi.Average() : null);
    }

    // Checks shapes, dtypes and ranges of the whole batch; returns each layer's top-1 experts.
    private int[][] Validate(IReadOnlyList<MoeLayerRouting> perLayer, int[]? topics)
    {
        ArgumentNullException.ThrowIfNull(perLayer);
        if (perLayer.Count != Layers)
            throw new ArgumentException($"expected one entry per MoE layer ({Layers}), got {perLayer.Count}.", nameof(perLayer));
        long n = -1;
        var top1 = new int[Layers][];
        for (int l = 0; l < Layers; l++)
        {
            var (topIndices, logits, features) = perLayer[l];
            string at = $"perLayer[{l}]";
            if (topIndices is null || logits is null || features is null)
                throw new ArgumentException($"{at} has a null tensor.", nameof(perLayer));
            if (topIndices.dim() != 2 || topIndices.shape[1] < 1 || topIndices.shape[1] > Experts)
                throw new ArgumentException($"{at}.TopIndices must be [N, k] with 1 ≤ k ≤ {Experts}, got {Shape(topIndices)}.", nameof(perLayer));
            if (topIndices.dtype != ScalarType.Int64)
                throw new ArgumentException($"{at}.TopIndices must be int64, got {topIndices.dtype}.", nameof(perLayer));
            if (n < 0) n = topIndices.shape[0];
            if (topIndices.shape[0] != n)
                throw new ArgumentException($"{at}.TopIndices has {topIndices.shape[0]} tokens, layer 0 has {n}.", nameof(perLayer));
            if (n > 0)
            {
                long min = topIndices.min().item<long>(), max = topIndices.max().item<long>();
                if (min < 0 || max >= Experts)
                    throw new ArgumentException($"{at}.TopIndices must lie in [0, {Experts}), got values in [{min}, {max}].", nameof(perLayer));
            }
            if (logits.dim() != 2 || logits.shape[0] != n || logits.shape[1] != Experts)
                throw new ArgumentException($"{at}.RouterLogits must be [{n}, {Experts}], got {Shape(logits)}.", nameof(perLayer));
            if (!logits.is_floating_point())
                throw new ArgumentException($"{at}.RouterLogits must be floating point, got {logits.dtype}.", nameof(perLayer));
            if (features.dim() != 2 || features.shape[0] != n)
                throw new ArgumentException($"{at}.RoutingFeatures must be [{n}, r], got {Shape(features)}.", nameof(perLayer));
            var topOne = topIndices.select(1, 0).contiguous();
            try
            {
                _dispersion[l].Validate(features, topOne);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{at}.RoutingFeatures: {e.Message}", nameof(perLayer), e);
            }
            top1[l] = topOne.cpu().data<long>().Select(x => (int)x).ToArray();
        }
        if (topics is not null)
        {
            if (Topics == 0)
                throw new ArgumentException("topic labels were given, but the accumulator was created with topics = 0.", nameof(topics));
            if (topics.Length != n)
                throw new ArgumentException($"{topics.Length} topic labels for {n} tokens.", nameof(topics));
            for (int i = 0; i < topics.Length; i++)
                if (topics[i] < -1 || topics[i] >= Topics)
                    throw new ArgumentException($"topic {topics[i]} at token {i} is outside [-1, {Topics}).", nameof(topics));
        }
        return top1;
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    private static double[] Fractions(long[] counts)
    {
        double total = counts.Sum();
        return counts.Select(c => c / total).ToArray();
    }

    private static void Add(long[,] target, long[,] source)
    {
        for (int i = 0; i < target.GetLength(0); i++)
            for (int j = 0; j < target.GetLength(1); j++) target[i, j] += source[i, j];
    }

    private static double[][] ToJagged(long[,] counts) =>
        Enumerable.Range(0, counts.GetLength(0))
            .Select(i => Enumerable.Range(0, counts.GetLength(1)).Select(j => (double)counts[i, j]).ToArray())
            .ToArray();
}
