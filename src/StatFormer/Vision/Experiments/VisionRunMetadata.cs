using System.Text.Json;
using StatFormer.IO;
using StatFormer.Reporting;
using StatFormer.Training;
using StatFormer.Vision.Models;

namespace StatFormer.Vision.Experiments;

/// <summary>
/// What a vision checkpoint carries besides weights, so that `vision eval --run` can rebuild the exact model and data:
/// the model spec (options, image shape, classes, normalisation) and the run's options (output as recorded).
/// </summary>
public sealed record VisionRunMetadata(VisionModelSpec Spec, VisionRunOptions Options)
{
    public string ToJson() => JsonSerializer.Serialize(this, JsonOutput.Options);

    /// <summary>Parses metadata read from <paramref name="source"/> (named in the error).</summary>
    public static VisionRunMetadata Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<VisionRunMetadata>(json, JsonOutput.Options) ?? throw new InvalidDataException($"{source}: checkpoint metadata is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: checkpoint metadata is not a StatFormer vision run ({e.Message})", e);
        }
    }

    /// <summary>What makes two runs the same training run: the model, the data, the seed and the objective (not steps, evaluation or output).</summary>
    private string Identity() => JsonSerializer.Serialize(new { Spec, Options.Data, Options.Train.Seed, Options.LabelSmoothing, Options.Adversarial }, JsonOutput.Options);

    /// <summary>
    /// Refuses to resume (or reuse) a run folder whose checkpoint was written for another model, data, seed or objective:
    /// softmax and elliptical ViTs have identical parameters, so their weights would load silently.
    /// </summary>
    /// <exception cref="RunFolderConflictException">The folder holds a different run.</exception>
    public static void EnsureSameRun(string outDir, VisionRunMetadata expected)
    {
        var path = Path.Combine(outDir, Trainer.CheckpointFileName);
        if (!File.Exists(path)) return;
        var saved = Parse(Checkpoint.ReadMetadata(path), path);
        var differences = Checkpoint.MetadataDifferences(saved.Identity(), expected.Identity());
        if (differences.Count > 0)
            throw new RunFolderConflictException(RunFolderConflict.DifferentRun, $"{path} belongs to a different run ({string.Join(", ", differences)})");
    }
}
