using StatFormer.Language.Models;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;

namespace StatFormer.Language.Evaluation;

/// <summary>
/// A language model's extras for TensorBoard (<see cref="TransformerStackDiagnostics"/>: elliptical metric histograms, expert
/// load per MoE layer) over the first validation windows, the same ones at every validation.
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
        if (_tokens.Length == 0 || !TransformerStackDiagnostics.HasExtras(stack)) return;
        var seqLen = _model.Config.SeqLen;
        var ids = torch.tensor(_tokens, device: DeviceChoice.DeviceOf(_model)).reshape(_tokens.Length / seqLen, seqLen);
        TransformerStackDiagnostics.Write(_model.Run(ids, recordIntermediates: true).Layers!, stack, step, log);
    }
}
