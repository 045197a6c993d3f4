using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;

namespace StatFormer.Language.Evaluation;

/// <summary>Final evaluation of a trained language model: clean and attacked perplexity, collapse and metric diagnostics.</summary>
public static class LmEvaluation
{
    /// <summary>Windows of the test set used for the representation diagnostics.</summary>
    public const int DiagnosticWindows = 8;

    public static LmEvaluationResult Evaluate(TransformerLm model, EvaluationSets sets, int batchSize, int? stride)
    {
        var seqLen = model.Config.SeqLen;
        var valid = PerplexityEvaluator.Evaluate(model, sets.Valid, seqLen, batchSize, stride);
        var test = PerplexityEvaluator.Evaluate(model, sets.Test, seqLen, batchSize, stride);
        var attacked = new Dictionary<string, double>();
        var effective = new Dictionary<string, double>();
        var context = new Dictionary<string, ContextAttackPpl>();
        foreach (var set in sets.Attacked)
        {
            attacked[set.Key] = PerplexityEvaluator.Evaluate(model, set.Tokens, seqLen, batchSize, stride).Perplexity;
            effective[set.Key] = set.EffectiveRate;
            // The same targets in both streams (their positions differ where a swap changed the token count).
            if (set.Untouched is { Count: > 0 } untouched)
                context[set.Key] = new ContextAttackPpl(
                    PerplexityEvaluator.Evaluate(model, set.Tokens, seqLen, batchSize, stride, untouched.InAttacked).Perplexity,
                    PerplexityEvaluator.Evaluate(model, sets.Test, seqLen, batchSize, stride, untouched.InClean).Perplexity);
        }
        var (collapse, metric) = Diagnostics(model, sets.Test);
        var routing = Routing(model, sets.Test, sets.TestTopics, sets.TopicCount, batchSize);
        var size = sets.TestTargetText;
        return new LmEvaluationResult(valid.Perplexity, test.Perplexity, attacked, effective, test.TokensScored, collapse, metric, context, routing,
            size is null ? null : test.TotalBits / size.Characters, size?.Bytes is { } bytes ? test.TotalBits / bytes : null);
    }

    /// <summary>Test windows (at most) the routing diagnostics are computed on.</summary>
    public const int RoutingWindows = 64;

    /// <summary>
    /// Routing diagnostics of an MoE model over the first test windows, in eval mode and in batches of
    /// <paramref name="batchSize"/> windows (the AC router's statistics are per batch, as in training):
    /// expert load, router entropy, dispersion in the routing space, stability between consecutive MoE
    /// layers and, with <paramref name="topics"/> (synthetic data), agreement of routing with the latent topic.
    /// Null for a dense model.
    /// </summary>
    public static MoeDiagnostics? Routing(TransformerLm model, long[] tokens, int[]? topics, int topicCount, int batchSize)
    {
        if (model.Config.Stack.Moe.Router == MoeKind.None) return null;
        var seqLen = model.Config.SeqLen;
        var windows = (int)Math.Min(RoutingWindows, tokens.Length / seqLen);
        if (windows == 0) return null;
        var accumulator = new MoeDiagnosticsAccumulator(model.Config.Stack.MoeLayers.Count, model.Config.Stack.Moe.Layer.Experts, topics is null ? 0 : topicCount);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var device = DeviceChoice.DeviceOf(model);
            for (var start = 0; start < windows; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(batchSize, windows - start);
                var range = (start * seqLen)..((start + count) * seqLen);
                var ids = torch.tensor(tokens[range], device: device).reshape(count, seqLen);
                var routing = model.Run(ids, recordIntermediates: true).Layers!.Select(l => l.Routing).OfType<MoeLayerRouting>().ToList();
                accumulator.AddBatch(routing, topics?[range]);
            }
            return accumulator.Result();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// Runs the first test windows through the model in eval mode, recording each block's output (for
    /// representation collapse) and each elliptical layer's metric m.
    /// </summary>
    public static (IReadOnlyList<double> Collapse, IReadOnlyDictionary<string, double[]> Metric) Diagnostics(TransformerLm model, long[] tokens)
    {
        var seqLen = model.Config.SeqLen;
        var windows = (int)Math.Min(DiagnosticWindows, tokens.Length / seqLen);
        if (windows == 0) return (Array.Empty<double>(), new Dictionary<string, double[]>());
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var ids = torch.tensor(tokens[..(windows * seqLen)], device: DeviceChoice.DeviceOf(model)).reshape(windows, seqLen);
            var layers = model.Run(ids, recordIntermediates: true).Layers!;
            var collapse = layers.Select(l => RepresentationCollapse.MeanPairwiseCosine(l.Hidden)).ToArray();
            var metric = layers.Select((l, i) => (Layer: i, l.Metric)).Where(x => x.Metric is not null).ToDictionary(
                x => x.Layer.ToString(System.Globalization.CultureInfo.InvariantCulture),
                x => EllipticalMetric.MeanPerHead(x.Metric!));
            return (collapse, metric);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
