using System.Globalization;
using StatFormer.Moe;
using StatFormer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Transformer;

/// <summary>
/// The TensorBoard extras of a <see cref="TransformerStack"/>, for every model built on it (language model, ViT): each
/// elliptical layer's metric m as a histogram (<c>elliptical/layer{i}/metric</c>) and each MoE layer's expert load, the
/// share of routed assignments per expert (<c>moe/layer{i}/expert_load/{e}</c>, summing to 1 per layer).
/// </summary>
public static class TransformerStackDiagnostics
{
    /// <summary>Whether the stack has anything to show: an elliptical layer or an MoE layer.</summary>
    public static bool HasExtras(TransformerStackOptions stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        return stack.EffectiveEllipticalLayers.Count > 0 || stack.Moe.Router != MoeKind.None;
    }

    /// <summary>Writes the extras of one forward pass's recorded <paramref name="layers"/> at <paramref name="step"/>.</summary>
    public static void Write(IReadOnlyList<TransformerLayerIntermediates> layers, TransformerStackOptions stack, long step, TensorBoardLog log)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(log);
        for (var i = 0; i < layers.Count; i++)
        {
            var name = i.ToString(CultureInfo.InvariantCulture);
            if (layers[i].Metric is { } metric) log.Histogram($"elliptical/layer{name}/metric", metric, step);
            if (layers[i].Routing is { } routing) WriteLoad(log, $"moe/layer{name}/expert_load", routing, stack.Moe.Layer.Experts, step);
        }
    }

    private static void WriteLoad(TensorBoardLog log, string tag, MoeLayerRouting routing, int experts, long step)
    {
        var counts = torch.bincount(routing.TopIndices.flatten().to(ScalarType.Int64), minlength: experts).to(ScalarType.Float64);
        var share = (counts / counts.sum()).cpu().data<double>().ToArray();
        for (var e = 0; e < share.Length; e++) log.Scalar($"{tag}/{e.ToString(CultureInfo.InvariantCulture)}", share[e], step);
    }
}
