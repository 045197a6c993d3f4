using System.Globalization;

namespace StatFormer.Reporting;

/// <summary>Summaries over repeated runs (seeds) as reported in the tables.</summary>
public static class Stats
{
    /// <summary>Mean and sample standard deviation (n−1 denominator; 0 for a single value).</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("Need at least one value.", nameof(values));
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= values.Count;
        if (values.Count == 1) return (mean, 0);
        double squares = 0;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        return (mean, Math.Sqrt(squares / (values.Count - 1)));
    }

    /// <summary>"mean ± std" with <paramref name="decimals"/> decimals, invariant culture, e.g. "12.34 ± 0.56".</summary>
    public static string FormatMeanStd(IReadOnlyList<double> values, int decimals = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        var (mean, std) = MeanStd(values);
        var format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {std.ToString(format, CultureInfo.InvariantCulture)}";
    }
}
