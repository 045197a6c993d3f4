using StatFormer.Contrastive;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// A fair-method comparison: the same data, encoder, optimiser, epochs and probes for every method, repeated over seeds.
/// </summary>
public sealed record FairComparisonOptions
{
    /// <summary>The shared run settings; Method, Seed, OutDir and Resume are set per run.</summary>
    public required FairRunOptions Run { get; init; }

    public IReadOnlyList<ContrastiveMethod> Methods { get; init; } = Enum.GetValues<ContrastiveMethod>();
    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];
    public string OutDir { get; init; } = Path.Combine("runs", "fair-compare");

    /// <summary>Reuse runs whose summary.json matches these settings; resume interrupted ones from their checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>Replace the comparison in <see cref="OutDir"/>: its files and its runs' files are deleted first.</summary>
    public bool Overwrite { get; init; }
}
