namespace StatFormer.Options;

/// <summary>Where a run (or a comparison) writes its files, and what to do with a run already there.</summary>
public sealed record RunOutputOptions
{
    /// <summary>Output folder.</summary>
    public string OutDir { get; init; } = Path.Combine("runs", "lm");

    /// <summary>Continue the run in <see cref="OutDir"/> from its checkpoint (a comparison reuses its finished runs).</summary>
    public bool Resume { get; init; }

    /// <summary>Replace the run in <see cref="OutDir"/>: its files are deleted first.</summary>
    public bool Overwrite { get; init; }

    /// <summary>What a summary records: the folder, not how this session claimed it (so a resumed run's summary is unchanged).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public RunOutputOptions Recorded => this with { Resume = false, Overwrite = false };

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(!string.IsNullOrWhiteSpace(OutDir), nameof(OutDir), "must not be empty");
        OptionCheck.Require(!(Resume && Overwrite), nameof(Overwrite),
            "excludes Resume: Resume continues the run in OutDir, Overwrite replaces it");
    }
}
