using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.Evaluation;
using StatFormer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Experiments;

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
            if (set.UncorruptedTargets is { } unchanged)
                context[set.Key] = new ContextAttackPpl(
                    PerplexityEvaluator.Evaluate(model, set.Tokens, seqLen, batchSize, stride, unchanged).Perplexity,
                    PerplexityEvaluator.Evaluate(model, sets.Test, seqLen, batchSize, stride, unchanged).Perplexity);
        }
        var (collapse, metric) = Diagnostics(model, sets.Test);
        return new LmEvaluationResult(valid.Perplexity, test.Perplexity, attacked, effective, test.TokensScored, collapse, metric, context);
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
        var elliptical = model.Blocks.Select((b, i) => (Layer: i, Attention: b.Attention as EllipticalSelfAttention))
            .Where(x => x.Attention is not null).ToList();
        try
        {
            foreach (var (_, attention) in elliptical) attention!.CaptureMetric = true;
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var ids = torch.tensor(tokens[..(windows * seqLen)]).reshape(windows, seqLen);
            var hidden = new List<Tensor>();
            model.Forward(ids, hidden);
            var collapse = hidden.Select(RepresentationCollapse.MeanPairwiseCosine).ToArray();
            var metric = elliptical.ToDictionary(
                x => x.Layer.ToString(System.Globalization.CultureInfo.InvariantCulture),
                x => x.Attention!.LastMetric!.Cast<float>().Select(v => (double)v).ToArray());
            return (collapse, metric);
        }
        finally
        {
            foreach (var (_, attention) in elliptical) attention!.CaptureMetric = false;
            model.train(wasTraining);
        }
    }
}
