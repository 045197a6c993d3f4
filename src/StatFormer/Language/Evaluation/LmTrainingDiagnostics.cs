using System.Globalization;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Language.Evaluation;

/// <summary>
/// A language model's extras for TensorBoard, over the first validation windows (the same ones at every validation):
/// each elliptical layer's metric m as a histogram (<c>elliptical/layer{i}/metric</c>) and each MoE layer's expert
/// load, the share of routed assignments per expert (<c>moe/layer{i}/expert_load/{e}</c>, summing to 1 per layer).
/// </summary>
public sealed class LmTrainingDiagnostics : ITrainingDiagnostics
{
    /// <summary>Validation windows the diagnostics are computed on.</summary>
    public const int Windows = 4;

    private readonly TransformerLm _model;
    private readonly long[] _tokens;

    /// <param name="validation">Validation tokens; the first <see cref="Windows"/> windows of the model's context are used.</param>
    public LmTrainingDiagnostics(TransformerLm model, long[] validation)
    {
        _model = model;
        var seqLen = model.Config.SeqLen;
        var windows = Math.Min(Windows, validation.Length / seqLen);
        _tokens = validation[..(windows * seqLen)];
    }

    public void Write(long step, TensorBoardLog log)
    {
        var stack = _model.Config.Stack;
        if (_tokens.Length == 0 || (stack.EffectiveEllipticalLayers.Count == 0 && stack.Moe.Router == MoeKind.None)) return;
        var seqLen = _model.Config.SeqLen;
        var ids = torch.tensor(_tokens, device: DeviceChoice.DeviceOf(_model)).reshape(_tokens.Length / seqLen, seqLen);
        var layers = _model.Run(ids, recordIntermediates: true).Layers!;
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
