namespace StatFormer.Comparison;

/// <summary>
/// Which runs a comparison holds and where: every variant for every seed, each in
/// <c><see cref="OutDir"/>/NAME-seedK/</c>. <see cref="Resume"/> reuses finished runs and resumes interrupted ones;
/// <see cref="Overwrite"/> deletes the comparison's and its runs' files first.
/// </summary>
public sealed record ComparisonPlan<TVariant>(IReadOnlyList<TVariant> Variants, IReadOnlyList<int> Seeds, string OutDir, bool Resume, bool Overwrite);
