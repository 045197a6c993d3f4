using System.Text.Json;
using System.Text.Json.Nodes;
using StatFormer.IO;
using StatFormer.Language.Data;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using StatFormer.Reporting;
using StatFormer.Training;
using StatFormer.Vision.Experiments;
using TorchSharp;

namespace StatFormer.Interop;

/// <summary>A trained model read back from its run folder, with what is needed to rebuild it elsewhere.</summary>
/// <param name="Kind">The model family, e.g. "lm"; the first key of the exported config.json.</param>
/// <param name="Model">The model with the run's best weights; disposed with this object.</param>
/// <param name="Config">The model tree that rebuilds it (for a language model: the LmConfig tree and the tokenizer).</param>
public sealed record RunModel(string Kind, torch.nn.Module Model, JsonObject Config) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>Rebuilds the model of one kind of run folder; returns null for a folder of another kind.</summary>
public interface IRunModelReader
{
    RunModel? TryRead(string folder);
}

/// <summary>`statformer export`: the state dict of any run folder whose model a <see cref="IRunModelReader"/> can rebuild.</summary>
public static class RunExport
{
    /// <summary>The file written beside the exported weights.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The run kinds export understands, tried in order (vision first: it recognises its own checkpoint metadata, the LM reader takes any checkpoint).</summary>
    public static IReadOnlyList<IRunModelReader> Readers { get; } = [new VisionRunModelReader(), new LmRunModelReader()];

    /// <summary>The model of the run in <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">No reader recognises the folder.</exception>
    public static RunModel Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"run folder {folder}: no such folder");
        foreach (var reader in Readers)
            if (reader.TryRead(folder) is { } model) return model;
        throw new InvalidDataException($"run folder {folder}: no model to export there (expected the output folder of `lm train` or `vision train`)");
    }

    /// <summary>The language model and tokenizer of the config.json that <see cref="Export"/> wrote beside <paramref name="weightsFile"/>.</summary>
    /// <exception cref="FileNotFoundException">No config.json beside the file.</exception>
    /// <exception cref="InvalidDataException">It is not the config of an exported language model.</exception>
    public static (LmConfig Config, ITokenizer Tokenizer) ReadLmConfig(string weightsFile)
    {
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsFile))!, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (`statformer export` writes it beside the weights; or pass --run)", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: a JSON object was expected");
            if (root["kind"]?.GetValue<string>() != "lm") throw new InvalidDataException($"{path}: not the config of an exported language model (kind '{root["kind"]}')");
            var model = root["model"] ?? throw new InvalidDataException($"{path}: no 'model' tree");
            var tokenizer = root["tokenizer"] ?? throw new InvalidDataException($"{path}: no 'tokenizer'");
            return (LmConfig.FromJson(model.ToJsonString()), TokenizerFactory.FromJson(tokenizer.ToJsonString()));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a valid export config ({e.Message})", e);
        }
    }

    /// <summary>
    /// Writes the run's best weights to <paramref name="outFile"/> and, beside it, <c>config.json</c>:
    /// <c>{"kind": …, "format": …, "weights": file name, …the reader's model tree}</c>. Both writes are atomic.
    /// </summary>
    /// <returns>The path of the config.json written.</returns>
    public static string Export(string runFolder, string outFile, StateDictFormat format)
    {
        using var run = Open(runFolder);
        var directory = Path.GetDirectoryName(Path.GetFullPath(outFile))!;
        Directory.CreateDirectory(directory);
        ModelWeights.Export(run.Model, outFile, format);
        var config = new JsonObject
        {
            ["kind"] = run.Kind,
            ["format"] = format == StateDictFormat.Safetensors ? "safetensors" : "pytorch",
            ["weights"] = Path.GetFileName(outFile),
        };
        foreach (var (key, value) in run.Config) config[key] = value?.DeepClone();
        var configPath = Path.Combine(directory, ConfigFileName);
        AtomicFile.WriteAllText(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return configPath;
    }
}

/// <summary>Reads `lm train` run folders: the model tree under "model", the tokenizer under "tokenizer".</summary>
public sealed class LmRunModelReader : IRunModelReader
{
    public RunModel? TryRead(string folder)
    {
        if (!File.Exists(Path.Combine(folder, Training.Trainer.CheckpointFileName))) return null;
        var trained = TrainedLmRun.Load(folder);
        var config = new JsonObject
        {
            ["model"] = JsonNode.Parse(trained.Metadata.Config.ToJson()),
            ["tokenizer"] = JsonNode.Parse(trained.Tokenizer.ToJson()),
        };
        return new RunModel("lm", trained.Model, config);
    }
}

/// <summary>Reads `vision train` run folders: the model spec (architecture, stack, image shape, classes, normalisation) under "spec".</summary>
public sealed class VisionRunModelReader : IRunModelReader
{
    public RunModel? TryRead(string folder)
    {
        var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
        if (!File.Exists(checkpoint)) return null;
        // A vision checkpoint's metadata holds the model spec; a language model's does not.
        if (JsonNode.Parse(Checkpoint.ReadMetadata(checkpoint)) is not JsonObject metadata || !metadata.ContainsKey("spec")) return null;
        var trained = TrainedVisionRun.Load(folder);
        var config = new JsonObject { ["spec"] = JsonSerializer.SerializeToNode(trained.Metadata.Spec, JsonOutput.Options) };
        return new RunModel("vision", trained.Model, config);
    }
}
