namespace StatFormer.Language.Experiments;

/// <summary>
/// A comparison: the same data, model size, optimiser, step budget, evaluation windows and attack draw
/// for every model variant (attention × feed-forward router), repeated over several seeds.
/// </summary>
public sealed record LmComparisonOptions
{
    /// <summary>
    /// The shared run settings; each run gets its variant's Model.Attention and Model.Moe, its Train.Seed and the
    /// folder <c>NAME-seedN</c> inside Run.Output.OutDir, which is the comparison's own folder (resumed or overwritten as a whole).
    /// </summary>
    public required LmRunOptions Run { get; init; }

    /// <summary>The models compared.</summary>
    public IReadOnlyList<ModelVariant> Variants { get; init; } = new[] { ModelVariant.Softmax, ModelVariant.Elliptical };

    /// <summary>Convergence target: steps until the validation perplexity first reaches it. Null: the worst run's best validation perplexity, which every run reaches.</summary>
    public double? TargetValidPpl { get; init; }

    /// <summary>The seeds every variant is trained with.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = new[] { 0, 1, 2 };

    /// <summary>"I/N": run only this machine's share of the runs into the shared output folder (see <see cref="Comparison.ComparisonShard"/>); null: all of them, or aggregate a folder that shards filled.</summary>
    public string? Shard { get; init; }

    /// <summary>The parsed <see cref="Shard"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Comparison.ComparisonShard? ParsedShard => Comparison.ComparisonShard.ParseOption(Shard, nameof(Shard));

    /// <exception cref="ArgumentException">ParamName is the path of the first offending property.</exception>
    public void Validate()
    {
        Comparison.ComparisonShard.ParseOption(Shard, nameof(Shard));
        Options.OptionCheck.Require(Seeds.Count > 0, nameof(Seeds), "must name at least one seed");
        Options.OptionCheck.Require(Variants.Count > 0, nameof(Variants), "must name at least one model variant");
        Options.OptionCheck.Require(!Variants.Any(v => Moe.MoeKindNames.IsSoft(v.Moe)), nameof(Variants),
            "soft-moe and ac-soft-moe are for image models only: Soft MoE mixes every token of a sequence into every slot, so a language model cannot be causal with it");
        Options.OptionCheck.Require(TargetValidPpl is null or > 1, nameof(TargetValidPpl), $"must be greater than 1 (got {TargetValidPpl})");
        Options.OptionCheck.Nested(nameof(Run), Run.Validate);
    }
}
