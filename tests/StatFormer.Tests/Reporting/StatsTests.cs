using StatFormer.Reporting;

namespace StatFormer.Tests.Reporting;

public class StatsTests
{
    [Fact]
    public void MeanStdMatchesAHandComputation()
    {
        // mean 5; squared deviations 9+1+1+9 = 20; sample variance 20/3.
        var (mean, std) = Stats.MeanStd(new double[] { 2, 4, 6, 8 });
        Assert.Equal(5, mean, 12);
        Assert.Equal(Math.Sqrt(20.0 / 3), std, 12);
    }

    [Fact]
    public void SingleValueHasZeroStd()
    {
        Assert.Equal((3.5, 0.0), Stats.MeanStd(new[] { 3.5 }));
    }

    [Fact]
    public void EmptyInputIsRejected()
    {
        Assert.Throws<ArgumentException>(() => Stats.MeanStd(Array.Empty<double>()));
    }

    [Fact]
    public void FormatsMeanPlusMinusStd()
    {
        // mean 12.34; deviations ±0.56 → sample std sqrt(2·0.3136/1) = 0.79196.
        Assert.Equal("12.34 ± 0.79", Stats.FormatMeanStd(new[] { 11.78, 12.90 }));
        Assert.Equal("12.3 ± 0.8", Stats.FormatMeanStd(new[] { 11.78, 12.90 }, 1));
        Assert.Equal("7.000 ± 0.000", Stats.FormatMeanStd(new[] { 7.0 }, 3));
    }
}
