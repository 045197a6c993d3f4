using StatFormer.Language.Data;
using StatFormer.Language.Models;
using StatFormer.Training;

namespace StatFormer.Language.Experiments;

/// <summary>
/// A finished (or interrupted) `lm train` run folder, read back: its metadata (model config, tokenizer, data, evaluation
/// settings) and the model with its best validation weights (best_model.bin, or the checkpoint's weights when there is none).
/// What `lm eval` and `lm generate` start from.
/// </summary>
public sealed class TrainedLmRun : IDisposable
{
    private TrainedLmRun(string folder, LmRunMetadata metadata, TransformerLm model)
    {
        Folder = folder;
        Metadata = metadata;
        Model = model;
        Tokenizer = metadata.Tokenizer;
    }

    public string Folder { get; }
    public LmRunMetadata Metadata { get; }
    public TransformerLm Model { get; }
    public ITokenizer Tokenizer { get; }

    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">No checkpoint in it.</exception>
    /// <exception cref="InvalidDataException">The checkpoint or best_model.bin is corrupt or does not fit the run's model.</exception>
    public static TrainedLmRun Load(string folder)
    {
        var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"run folder {folder}: no such folder");
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"run folder {folder}: no {Trainer.CheckpointFileName} there (is it a `lm train` output folder?)", checkpoint);
        var metadata = LmRunMetadata.Parse(Checkpoint.ReadMetadata(checkpoint), checkpoint);
        var model = new TransformerLm(metadata.Config);
        try
        {
            var best = Path.Combine(folder, Trainer.BestModelFileName);
            if (File.Exists(best))
            {
                try
                {
                    model.load(best);
                }
                catch (Exception e) when (e is not IOException)
                {
                    throw new InvalidDataException($"{best} is corrupt or does not fit the run's model: {e.Message}", e);
                }
            }
            else
            {
                Checkpoint.Load(checkpoint, model);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new TrainedLmRun(folder, metadata, model);
    }

    public void Dispose() => Model.Dispose();
}
