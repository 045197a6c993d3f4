using ScottPlot;
using StatFormer.IO;

namespace StatFormer.Reporting;

/// <summary>PNG figures for the reports (ScottPlot 5, rendered in memory and written atomically).</summary>
public static class Plots
{
    private const int Width = 900;
    private const int Height = 600;

    /// <summary>
    /// One line with markers per series, a shaded ±error band where <see cref="Series.YError"/> is given, and a legend.
    /// Non-finite points are left out. With <paramref name="logY"/> the values are plotted as log10(y) on an axis
    /// labelled with the original values (powers of ten, log-spaced minor ticks); y must then be positive, and the
    /// lower edge of a band that would reach zero is clipped to a hundredth of the point.
    /// </summary>
    public static void LineChart(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logY = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);

        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < series.Count; s++)
        {
            var curve = series[s];
            ValidateSeries(curve, logY);
            var color = palette.GetColor(s);

            var xs = new List<double>();
            var ys = new List<double>();
            var lows = new List<double>();
            var highs = new List<double>();
            for (int i = 0; i < curve.X.Count; i++)
            {
                double x = curve.X[i], y = curve.Y[i], err = curve.YError?[i] ?? 0;
                if (!double.IsFinite(x) || !double.IsFinite(y) || !double.IsFinite(err)) continue;
                xs.Add(x);
                ys.Add(logY ? Math.Log10(y) : y);
                double low = y - Math.Abs(err), high = y + Math.Abs(err);
                lows.Add(logY ? Math.Log10(Math.Max(low, y / 100)) : low);
                highs.Add(logY ? Math.Log10(high) : high);
            }

            if (curve.YError is not null && xs.Count > 0)
            {
                var band = plot.Add.FillY(xs.ToArray(), highs.ToArray(), lows.ToArray());
                band.FillStyle.Color = color.WithAlpha(0.2);
                band.LineStyle.Width = 0;
            }
            var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            scatter.Color = color;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 6;
            scatter.LegendText = curve.Label;
        }

        if (logY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        if (series.Count > 0) plot.ShowLegend();
        Save(plot, path);
    }

    /// <summary>
    /// A colour map of <paramref name="values"/> [rows, columns] (e.g. rows = layers, drawn top to bottom in order;
    /// columns = coordinates) with labelled ticks, optional axis titles and a colour bar. NaN cells are drawn transparent.
    /// </summary>
    public static void Heatmap(string path, string title, double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, string colorbarLabel,
        string? xLabel = null, string? yLabel = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows == 0 || columns == 0) throw new ArgumentException("Heatmap needs at least one row and one column.", nameof(values));
        if (rowLabels.Count != rows) throw new ArgumentException($"{rowLabels.Count} row labels for {rows} rows.", nameof(rowLabels));
        if (columnLabels.Count != columns) throw new ArgumentException($"{columnLabels.Count} column labels for {columns} columns.", nameof(columnLabels));

        var plot = new Plot();
        plot.Title(title);
        if (xLabel is not null) plot.XLabel(xLabel);
        if (yLabel is not null) plot.YLabel(yLabel);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        // ScottPlot's default layout centres cell (r, c) at (c, rows-1-r): row 0 on top. Setting an explicit extent
        // instead divides by rows-1 and draws nothing for a single row.
        var finite = values.Cast<double>().Where(double.IsFinite).ToList();
        // A constant map (e.g. m ≡ 1 in a layer) would give the colour bar an empty range and no ticks.
        if (finite.Count > 0 && finite.Min() == finite.Max())
            heatmap.ManualRange = new ScottPlot.Range(finite[0] - 0.5, finite[0] + 0.5);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = colorbarLabel;

        plot.Axes.Bottom.TickGenerator = ManualTicks(columns, i => i, columnLabels);
        plot.Axes.Left.TickGenerator = ManualTicks(rows, i => rows - 1 - i, rowLabels);
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        Save(plot, path);
    }

    private static ScottPlot.TickGenerators.NumericManual ManualTicks(int count, Func<int, double> position, IReadOnlyList<string> labels)
    {
        // At most ~40 labels fit on an axis; label every k-th cell beyond that.
        int every = Math.Max(1, (int)Math.Ceiling(count / 40.0));
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < count; i += every) ticks.AddMajor(position(i), labels[i]);
        return ticks;
    }

    private static void ValidateSeries(Series curve, bool logY)
    {
        if (curve.X.Count != curve.Y.Count)
            throw new ArgumentException($"Series '{curve.Label}' has {curve.X.Count} x values and {curve.Y.Count} y values.");
        if (curve.YError is not null && curve.YError.Count != curve.Y.Count)
            throw new ArgumentException($"Series '{curve.Label}' has {curve.YError.Count} error values for {curve.Y.Count} points.");
        if (logY && curve.Y.Any(y => y <= 0))
            throw new ArgumentException($"Series '{curve.Label}' has non-positive values, which a log axis cannot show.");
    }

    private static void Save(Plot plot, string path) =>
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
}
