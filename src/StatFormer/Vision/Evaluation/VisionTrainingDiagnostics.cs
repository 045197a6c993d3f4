using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Models;

namespace StatFormer.Vision.Evaluation;

/// <summary>
/// A ViT's extras for TensorBoard (<see cref="TransformerStackDiagnostics"/>: elliptical metric histograms per layer, expert
/// load per MoE layer), as the language model has them, over the first training images (one batch, not augmented; the same
/// ones every time), written at every checkpoint step (vision runs have no validation split).
/// </summary>
public sealed class VisionTrainingDiagnostics : ITrainingDiagnostics
{
    private readonly VisionTransformer _model;
    private readonly ImageDataset _images;
    private readonly long _count;

    /// <param name="images">The first <paramref name="count"/> of them are used (a batch as in training: the AC router's statistics are per batch).</param>
    public VisionTrainingDiagnostics(VisionTransformer model, ImageDataset images, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        _model = model;
        _images = images;
        _count = Math.Min(count, images.Count);
    }

    public void Write(long step, TensorBoardLog log)
    {
        var stack = _model.Stack.Options;
        if (_count == 0 || !TransformerStackDiagnostics.HasExtras(stack)) return;
        var (images, _) = _images.Batch(0, _count, DeviceChoice.DeviceOf(_model));
        TransformerStackDiagnostics.Write(_model.Run(images, recordIntermediates: true).Layers!, stack, step, log);
    }
}
