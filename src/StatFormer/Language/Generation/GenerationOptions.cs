using StatFormer.Options;

namespace StatFormer.Language.Generation;

/// <summary>How the next token is drawn from the model's logits (applied in this order: temperature, top-k, top-p).</summary>
public sealed record SamplingOptions
{
    /// <summary>Divides the logits; 0 means greedy (always the most likely token).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens (ties with the k-th kept); null = all.</summary>
    public int? TopK { get; init; }

    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches p; 1 = all.</summary>
    public double TopP { get; init; } = 1.0;

    public bool Greedy => Temperature == 0;

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(double.IsFinite(Temperature) && Temperature >= 0, nameof(Temperature), $"must be 0 (greedy) or positive (got {Temperature})");
        OptionCheck.Require(TopK is null or >= 1, nameof(TopK), $"must be at least 1 (got {TopK})");
        OptionCheck.Require(TopP is > 0 and <= 1, nameof(TopP), $"must be in (0, 1] (got {TopP})");
    }
}

/// <summary>What <see cref="TextGenerator"/> produces for each prompt.</summary>
public sealed record GenerationOptions
{
    /// <summary>New tokens per sample (fewer when a stop string appears).</summary>
    public int MaxTokens { get; init; } = 200;

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Seeds the sampler's own generator: the same seed, model and prompt give the same samples.</summary>
    public int Seed { get; init; }

    /// <summary>Samples drawn one after another from the same sampler (sample i depends on the seed and i).</summary>
    public int NumSamples { get; init; } = 1;

    /// <summary>Generation ends at the first occurrence of any of these in the new text, which is cut before it.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Decode with the key/value cache where the model supports it (otherwise a full forward over the window per token).</summary>
    public bool UseCache { get; init; } = true;

    /// <exception cref="ArgumentException">ParamName is the offending property's path.</exception>
    public void Validate()
    {
        OptionCheck.Require(MaxTokens >= 1, nameof(MaxTokens), $"must be at least 1 (got {MaxTokens})");
        OptionCheck.Require(NumSamples >= 1, nameof(NumSamples), $"must be at least 1 (got {NumSamples})");
        OptionCheck.Require(Stop.All(s => s.Length > 0), nameof(Stop), "a stop string must not be empty");
        OptionCheck.Nested(nameof(Sampling), Sampling.Validate);
    }
}
