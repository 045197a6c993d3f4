using System.Text.Json;
using StatFormer.Contrastive;
using StatFormer.IO;
using StatFormer.Reporting;
using StatFormer.Training;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// What identifies a fair contrastive run's weights, stored verbatim as the trainer's checkpoint metadata: resuming (or
/// reusing) a folder written for another dataset, method, loss setting or architecture is refused rather than loading
/// weights of the same shapes under the wrong name.
/// </summary>
public sealed record FairRunMetadata(
    string Data, string Sensitive, int DataSeed, int? TrainLimit, string Method, string Encoder, int ProjectionDim,
    int BatchSize, int Seed, ContrastiveLossOptions LossOptions)
{
    public string ToJson() => JsonSerializer.Serialize(this, JsonOutput.Options);

    public static FairRunMetadata Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<FairRunMetadata>(json, JsonOutput.Options)
                ?? throw new InvalidDataException($"{source}: checkpoint metadata is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: checkpoint metadata is not a fair contrastive run description ({e.Message})", e);
        }
    }

    /// <summary>
    /// Throws <see cref="RunFolderConflictException"/> when <paramref name="outDir"/> holds a checkpoint of a different run,
    /// naming each field that differs. No checkpoint: nothing to check.
    /// </summary>
    public static void EnsureSameRun(string outDir, FairRunMetadata expected)
    {
        var path = Path.Combine(outDir, Trainer.CheckpointFileName);
        if (!File.Exists(path)) return;
        var saved = Parse(Checkpoint.ReadMetadata(path), path);
        var differences = Checkpoint.MetadataDifferences(saved.ToJson(), expected.ToJson());
        if (differences.Count > 0)
            throw new RunFolderConflictException(RunFolderConflict.DifferentRun, $"{path} belongs to a different run ({string.Join("; ", differences)})");
    }
}
