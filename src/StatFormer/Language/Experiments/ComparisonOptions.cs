namespace StatFormer.Language.Experiments;

/// <summary>
/// A comparison: the same data, model size, optimiser, step budget, evaluation windows and attack draw
/// for every model variant (attention × feed-forward router), repeated over several seeds.
/// </summary>
public sealed record ComparisonOptions
{
    /// <summary>The shared run settings; Attention, Moe, Seed and OutDir are set per run.</summary>
    public required LmRunOptions Run { get; init; }
    public IReadOnlyList<ModelVariant> Variants { get; init; } = new[] { ModelVariant.Softmax, ModelVariant.Elliptical };
    /// <summary>Convergence target: steps until the validation perplexity first reaches it. Null: the worst run's best validation perplexity, which every run reaches.</summary>
    public double? TargetValidPpl { get; init; }
    public IReadOnlyList<int> Seeds { get; init; } = new[] { 0, 1, 2 };
    public string OutDir { get; init; } = "runs/compare";
    /// <summary>Skip runs whose summary.json already exists and resume interrupted ones from their checkpoint.</summary>
    public bool Resume { get; init; }
    /// <summary>Replace the comparison in <see cref="OutDir"/>: its files and its runs' files are deleted first.</summary>
    public bool Overwrite { get; init; }
}
