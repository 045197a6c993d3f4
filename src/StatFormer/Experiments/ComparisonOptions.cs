using StatFormer.Attention;

namespace StatFormer.Experiments;

/// <summary>
/// A comparison: the same data, model size, optimiser, step budget, evaluation windows and attack draw
/// for every attention variant, repeated over several seeds.
/// </summary>
public sealed record ComparisonOptions
{
    /// <summary>The shared run settings; Attention, Seed and OutDir are set per run.</summary>
    public required LmRunOptions Run { get; init; }
    public IReadOnlyList<AttentionKind> Attentions { get; init; } = new[] { AttentionKind.Softmax, AttentionKind.Elliptical };
    public IReadOnlyList<int> Seeds { get; init; } = new[] { 0, 1, 2 };
    public string OutDir { get; init; } = "runs/compare";
    /// <summary>Skip runs whose summary.json already exists and resume interrupted ones from their checkpoint.</summary>
    public bool Resume { get; init; }
}
