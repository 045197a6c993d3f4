using StatFormer.Options;

namespace StatFormer.Language.Experiments;

/// <summary>Where a run's weights start: a fresh seeded initialisation (the default), a state dict file, or a Hugging Face GPT-2 checkpoint.</summary>
public sealed record LmInitOptions
{
    /// <summary>A safetensors or torch.save state dict (e.g. from `statformer export`) loaded over the initial weights; names and shapes must fit the model.</summary>
    public string? InitFrom { get; init; }

    /// <summary>A Hugging Face GPT-2 checkpoint folder: the model takes its shape and weights (the attention stays selectable).</summary>
    public string? HfCheckpoint { get; init; }

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(InitFrom is null || HfCheckpoint is null, nameof(HfCheckpoint), "excludes InitFrom: a run starts from one set of weights");
        OptionCheck.Require(InitFrom is null || File.Exists(InitFrom), nameof(InitFrom), $"{InitFrom}: no such file");
        OptionCheck.Require(HfCheckpoint is null || Directory.Exists(HfCheckpoint), nameof(HfCheckpoint), $"{HfCheckpoint}: no such folder");
    }
}
