using StatFormer.Training;
using StatFormer.Vision.Models;
using static TorchSharp.torch;

namespace StatFormer.Vision.Experiments;

/// <summary>
/// A finished (or interrupted) `vision train` run folder read back: its metadata (model spec, run options) and the model
/// with the checkpoint's weights (the final ones; vision runs have no validation split). What `vision eval` starts from.
/// </summary>
public sealed class TrainedVisionRun : IDisposable
{
    private TrainedVisionRun(string folder, VisionRunMetadata metadata, nn.Module<Tensor, Tensor> model)
    {
        Folder = folder;
        Metadata = metadata;
        Model = model;
    }

    public string Folder { get; }
    public VisionRunMetadata Metadata { get; }
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">No checkpoint in it.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is corrupt or not a vision run's.</exception>
    public static TrainedVisionRun Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"run folder {folder}: no such folder");
        var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"run folder {folder}: no {Trainer.CheckpointFileName} there (is it a `vision train` output folder?)", checkpoint);
        var metadata = VisionRunMetadata.Parse(Checkpoint.ReadMetadata(checkpoint), checkpoint);
        if (metadata.Spec is null || metadata.Options is null) throw new InvalidDataException($"{checkpoint}: checkpoint metadata is not a StatFormer vision run");
        var model = VisionModels.Create(metadata.Spec);
        try
        {
            Checkpoint.Load(checkpoint, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return new TrainedVisionRun(folder, metadata, model);
    }

    public void Dispose() => Model.Dispose();
}
