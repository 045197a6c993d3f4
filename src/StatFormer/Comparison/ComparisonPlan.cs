namespace StatFormer.Comparison;

/// <summary>
/// Which runs a comparison holds and where: every variant for every seed, each in
/// <c><see cref="OutDir"/>/NAME-seedK/</c>. <see cref="Resume"/> reuses finished runs and resumes interrupted ones;
/// <see cref="Overwrite"/> deletes the comparison's and its runs' files first (with a <see cref="Shard"/>: only its own runs').
/// </summary>
public sealed record ComparisonPlan<TVariant>(IReadOnlyList<TVariant> Variants, IReadOnlyList<int> Seeds, string OutDir, bool Resume, bool Overwrite,
    ComparisonShard? Shard = null)
{
    /// <summary>Every run's position, seed and variant, in the order the comparison runs them (seeds outer, variants inner).</summary>
    public IEnumerable<(int Position, int Seed, TVariant Variant)> Runs =>
        Seeds.SelectMany(seed => Variants.Select(variant => (seed, variant))).Select((r, k) => (k, r.seed, r.variant));
}
