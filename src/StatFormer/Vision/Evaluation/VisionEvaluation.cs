using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.Moe;
using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Evaluation;

/// <summary>Clean accuracy, the per-layer diagnostics and (MoE ViT) the routing diagnostics of an image classifier on a test set (eval mode, no gradient).</summary>
public static class VisionEvaluation
{
    /// <summary>Top-1 accuracy and mean cross-entropy over every image of <paramref name="data"/>; restores the model's mode.</summary>
    public static CleanEvaluation Clean(nn.Module<Tensor, Tensor> model, ImageDataset data, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("the test set has no images", nameof(data));
        if (batchSize < 1) throw new ArgumentException($"must be at least 1 (got {batchSize})", nameof(batchSize));
        var device = DeviceChoice.DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            long correct = 0;
            double lossSum = 0;
            using var noGrad = torch.no_grad();
            for (long start = 0; start < data.Count; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var (images, labels) = data.Batch(start, Math.Min(start + batchSize, data.Count), device);
                var logits = model.forward(images);
                correct += logits.argmax(1).eq(labels).sum().item<long>();
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            }
            return new CleanEvaluation((double)correct / data.Count, lossSum / data.Count, (int)data.Count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// Per layer of a ViT, over the first <paramref name="count"/> test images: representation collapse (mean pairwise
    /// cosine of the layer's token states, the authors' <c>rep_collapse</c>) and, in elliptical layers, the mean, minimum
    /// and spread of the metric m over coordinates (m = 1 everywhere is plain softmax attention).
    /// </summary>
    public static IReadOnlyList<VisionLayerDiagnostics> Layers(VisionTransformer model, ImageDataset data, int count, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var n = (int)Math.Min(count, data.Count);
        if (n < 1) throw new ArgumentException("no images to measure", nameof(data));
        var device = DeviceChoice.DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            var layers = model.Stack.Options.Layers;
            var collapse = new double[layers];
            var metrics = new double[layers][];
            using var noGrad = torch.no_grad();
            for (var start = 0; start < n; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var size = Math.Min(batchSize, n - start);
                var (images, _) = data.Batch(start, start + size, device);
                var output = model.Run(images, recordIntermediates: true);
                for (var l = 0; l < layers; l++)
                {
                    var record = output.Layers![l];
                    // Weighted by batch size so the result is the mean over images, whatever the batching.
                    collapse[l] += RepresentationCollapse.MeanPairwiseCosine(record.Hidden) * size;
                    if (record.Metric is { } m)
                    {
                        var perCoordinate = EllipticalMetric.MeanPerHead(m);
                        metrics[l] ??= new double[perCoordinate.Length];
                        for (var i = 0; i < perCoordinate.Length; i++) metrics[l][i] += perCoordinate[i] * size;
                    }
                }
            }
            return Enumerable.Range(0, layers).Select(l =>
            {
                var m = metrics[l]?.Select(v => v / n).ToArray();
                return new VisionLayerDiagnostics(l, collapse[l] / n, m?.Average(), m?.Min(), m is null ? null : Std(m), m);
            }).ToArray();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// Routing diagnostics of an MoE ViT over every image of <paramref name="data"/> (the LM's
    /// <see cref="MoeDiagnosticsAccumulator"/>): per MoE layer expert load, router entropy, dispersion in the routing
    /// space and purity / NMI of the top-1 expert against the image's class; stability between consecutive MoE layers.
    /// Every token the layer routes counts, the class token included (the layer routes it like a patch token; it is
    /// 1/(patches + 1) of the tokens), and each token's label is its image's class. Eval mode, in batches of
    /// <paramref name="batchSize"/> images as in training (the AC router's cluster statistics are per batch). Soft MoE layers
    /// count each token's top slot's expert as its top-1 and the combine weight per expert as its routing distribution
    /// (see <see cref="SoftMoeFeedForward"/>). Null for a dense model.
    /// </summary>
    public static MoeDiagnostics? Routing(VisionTransformer model, ImageDataset data, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var stack = model.Stack.Options;
        if (stack.Moe.Router == MoeKind.None) return null;
        if (data.Count == 0) throw new ArgumentException("the test set has no images", nameof(data));
        if (batchSize < 1) throw new ArgumentException($"must be at least 1 (got {batchSize})", nameof(batchSize));
        var accumulator = new MoeDiagnosticsAccumulator(stack.MoeLayers.Count, stack.Moe.Layer.Experts, data.Classes);
        var device = DeviceChoice.DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (long start = 0; start < data.Count; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var (images, labels) = data.Batch(start, Math.Min(start + batchSize, data.Count), device);
                var routing = model.Run(images, recordIntermediates: true).Layers!.Select(l => l.Routing).OfType<MoeLayerRouting>().ToList();
                // The MoE layers route the [B,N] tokens flattened image-major (row b·N + t), so each label repeats N times.
                var tokenLabels = labels.repeat_interleave(model.Tokens).cpu().data<long>().Select(l => (int)l).ToArray();
                accumulator.AddBatch(routing, tokenLabels);
            }
            return accumulator.Result();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static double Std(double[] values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }
}

/// <summary>Clean top-1 accuracy and mean cross-entropy over <paramref name="Images"/> test images.</summary>
public sealed record CleanEvaluation(double Accuracy, double Loss, int Images);

/// <summary>One ViT layer's diagnostics (see <see cref="VisionEvaluation.Layers"/>); the metric fields are null in softmax layers.</summary>
/// <param name="MetricPerCoordinate">The mean m per head and coordinate, head-major (h·D + d).</param>
public sealed record VisionLayerDiagnostics(int Layer, double RepresentationCollapse, double? MetricMean, double? MetricMin, double? MetricStd,
    IReadOnlyList<double>? MetricPerCoordinate);
