using System.Globalization;

namespace StatFormer.Reporting;

/// <summary>
/// Mean and sample standard deviation of one metric over N runs (seeds): mean = Σx/N, std = √(Σ(x − mean)²/(N − 1)),
/// 0 for a single run (<see cref="Stats.MeanStd"/>).
/// </summary>
public sealed record MeanStd(double Mean, double Std, int N)
{
    /// <summary>The aggregate of <paramref name="values"/> (at least one).</summary>
    public static MeanStd Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToList();
        var (mean, std) = Stats.MeanStd(list);
        return new MeanStd(mean, std, list.Count);
    }

    /// <summary>The aggregate of <paramref name="values"/> when every run has one; null when any is missing.</summary>
    public static MeanStd? OfAll(IEnumerable<double?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToList();
        return list.All(v => v is not null) ? Of(list.Select(v => v!.Value)) : null;
    }

    /// <summary>"mean ± std" with <paramref name="decimals"/> decimals (invariant culture); the mean alone for one run.</summary>
    public string Format(int decimals)
    {
        var format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return N > 1
            ? $"{Mean.ToString(format, CultureInfo.InvariantCulture)} ± {Std.ToString(format, CultureInfo.InvariantCulture)}"
            : Mean.ToString(format, CultureInfo.InvariantCulture);
    }
}
