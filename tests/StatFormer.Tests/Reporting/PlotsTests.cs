using StatFormer.Reporting;

namespace StatFormer.Tests.Reporting;

public sealed class PlotsTests : IDisposable
{
    private static readonly byte[] PngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
    private readonly string _dir = Directory.CreateTempSubdirectory("statformer-plots-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A real PNG (signature, more than a header) and, when <paramref name="aloneInFolder"/>, no temp file left beside it.</summary>
    internal static void AssertPlausiblePng(string path, bool aloneInFolder = true)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1024, $"{path} has only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        if (aloneInFolder) Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void LineChartWithErrorBandsWritesAPng()
    {
        var path = Path.Combine(_dir, "ppl.png");
        var series = new[]
        {
            new Series("softmax", new double[] { 0, 0.01, 0.015, 0.03 }, new double[] { 34.1, 40.2, 44.0, 52.9 }, new double[] { 0.4, 0.5, 0.7, 0.9 }),
            new Series("elliptical", new double[] { 0, 0.01, 0.015, 0.03 }, new double[] { 33.8, 38.9, 41.5, 49.0 }),
        };

        Plots.LineChart(path, "Word-swap attack", "attack rate", "perplexity", series);

        AssertPlausiblePng(path);
    }

    [Fact]
    public void LineChartOnALogAxisWritesAPng()
    {
        var path = Path.Combine(_dir, "loss.png");
        var steps = Enumerable.Range(1, 50).Select(i => (double)i * 100).ToArray();
        var series = new[]
        {
            new Series("train", steps, steps.Select(s => 5000 / s).ToArray(), steps.Select(s => 500 / s).ToArray()),
            new Series("valid", steps, steps.Select(s => 8000 / s + double.Epsilon).ToArray()),
        };

        Plots.LineChart(path, "Loss", "step", "perplexity", series, logY: true);

        AssertPlausiblePng(path);
    }

    [Fact]
    public void LogAxisRejectsNonPositiveValues()
    {
        var series = new[] { new Series("bad", new double[] { 1, 2 }, new double[] { 1, 0 }) };
        Assert.Throws<ArgumentException>(() => Plots.LineChart(Path.Combine(_dir, "x.png"), "t", "x", "y", series, logY: true));
    }

    [Fact]
    public void LineChartRejectsMismatchedLengths()
    {
        var series = new[] { new Series("bad", new double[] { 1, 2 }, new double[] { 1 }) };
        Assert.Throws<ArgumentException>(() => Plots.LineChart(Path.Combine(_dir, "x.png"), "t", "x", "y", series));
    }

    [Fact]
    public void HeatmapWritesAPng()
    {
        var path = Path.Combine(_dir, "m.png");
        var values = new double[4, 16];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 16; c++) values[r, c] = Math.Sin(r + c * 0.3) * 0.5 + 0.5;

        Plots.Heatmap(path, "Elliptical m per layer", values,
            Enumerable.Range(1, 4).Select(l => $"layer {l}").ToList(),
            Enumerable.Range(0, 16).Select(d => d.ToString()).ToList(), "m_d");

        AssertPlausiblePng(path);
    }

    [Fact]
    public void HeatmapHandlesASingleRow()
    {
        var path = Path.Combine(_dir, "one.png");
        Plots.Heatmap(path, "one layer", new double[,] { { 0.1, 1.0, 0.5 } }, new[] { "layer 1" }, new[] { "0", "1", "2" }, "m_d");
        AssertPlausiblePng(path);
    }

    [Fact]
    public void HeatmapHandlesAConstantSingleCell()
    {
        var path = Path.Combine(_dir, "cell.png");
        Plots.Heatmap(path, "one cell", new double[,] { { 1.0 } }, new[] { "layer 1" }, new[] { "0" }, "m_d");
        AssertPlausiblePng(path);
    }

    [Fact]
    public void HeatmapRejectsMismatchedLabels()
    {
        Assert.Throws<ArgumentException>(() =>
            Plots.Heatmap(Path.Combine(_dir, "x.png"), "t", new double[2, 2], new[] { "a" }, new[] { "0", "1" }, "m"));
    }
}
