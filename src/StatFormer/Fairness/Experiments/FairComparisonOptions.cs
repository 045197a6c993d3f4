using StatFormer.Contrastive;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// A fair-method comparison: the same data, encoder, optimiser, epochs and probes for every method, repeated over seeds.
/// </summary>
public sealed record FairComparisonOptions
{
    /// <summary>
    /// The shared run settings; each run gets its Model.Method, its Train.Seed and the folder <c>NAME-seedN</c> inside
    /// Run.Output.OutDir, which is the comparison's own folder (resumed, reusing runs whose summary.json matches, or overwritten as a whole).
    /// </summary>
    public required FairRunOptions Run { get; init; }

    /// <summary>The methods compared.</summary>
    public IReadOnlyList<ContrastiveMethod> Methods { get; init; } = Enum.GetValues<ContrastiveMethod>();

    /// <summary>The seeds every method is trained with.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];

    /// <summary>"I/N": run only this machine's share of the runs into the shared output folder (see <see cref="Comparison.ComparisonShard"/>); null: all of them, or aggregate a folder that shards filled.</summary>
    public string? Shard { get; init; }
}
