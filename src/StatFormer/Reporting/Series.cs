namespace StatFormer.Reporting;

/// <summary>One labelled curve of a line chart; <paramref name="YError"/> (± half-width per point) draws a shaded band.</summary>
public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? YError = null);
