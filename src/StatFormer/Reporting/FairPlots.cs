using ScottPlot;
using StatFormer.IO;

namespace StatFormer.Reporting;

/// <summary>The fair-representation figures: accuracy against bias removal, and 2-D embeddings coloured by z.</summary>
public static class FairPlots
{
    private const int Width = 900;
    private const int Height = 600;

    /// <summary>One labelled point of <see cref="TradeOff"/>: a mean with ± errors (std over seeds) on both axes.</summary>
    public sealed record Point(string Label, double X, double XError, double Y, double YError);

    /// <summary>
    /// A scatter of one point per method with ± error bars on both axes and the method's name beside it, in the colours of
    /// <see cref="Plots.LineChart"/> (Category10, in order). Non-finite points are left out.
    /// </summary>
    public static void TradeOff(string path, string title, string xLabel, string yLabel, IReadOnlyList<Point> points)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(points);
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            if (!double.IsFinite(p.X) || !double.IsFinite(p.Y)) continue;
            var color = palette.GetColor(i);
            double xe = Err(p.XError), ye = Err(p.YError);
            var bars = plot.Add.ErrorBar(new[] { p.X }, new[] { p.Y }, new[] { ye });
            bars.XErrorPositive = new[] { xe };
            bars.XErrorNegative = new[] { xe };
            bars.Color = color;
            bars.LineWidth = 1.5f;
            var marker = plot.Add.Marker(p.X, p.Y, MarkerShape.FilledCircle, 10, color);
            marker.LegendText = p.Label;
            var label = plot.Add.Text(p.Label, p.X, p.Y);
            label.LabelFontColor = color;
            label.LabelFontSize = 13;
            label.OffsetX = 8;
            label.OffsetY = -8;
        }
        var shown = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (shown.Count > 0)
        {
            plot.ShowLegend();
            // Room around the error bars for the names written beside the points (and a range for a single point).
            var (left, right) = Padded(shown.Select(p => p.X - Err(p.XError)).Min(), shown.Select(p => p.X + Err(p.XError)).Max(), 0.12, 0.25);
            var (bottom, top) = Padded(shown.Select(p => p.Y - Err(p.YError)).Min(), shown.Select(p => p.Y + Err(p.YError)).Max(), 0.12, 0.12);
            plot.Axes.SetLimits(left, right, bottom, top);
        }
        Save(plot, path);
    }

    /// <summary>
    /// A 2-D embedding (e.g. the first two principal components), one dot per sample. With <paramref name="rgb"/> each dot
    /// has its sample's own colour (ColorMNIST: the background colour z itself); otherwise dots are coloured by
    /// <paramref name="groups"/> with a legend of <paramref name="groupNames"/>.
    /// </summary>
    public static void Embedding(string path, string title, IReadOnlyList<double> x, IReadOnlyList<double> y,
        IReadOnlyList<int> groups, IReadOnlyList<string> groupNames, IReadOnlyList<(byte R, byte G, byte B)>? rgb = null,
        string xLabel = "PC 1", string yLabel = "PC 2")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(groupNames);
        if (x.Count != y.Count || groups.Count != x.Count || (rgb is not null && rgb.Count != x.Count))
            throw new ArgumentException($"embedding has {x.Count} x, {y.Count} y, {groups.Count} groups and {rgb?.Count} colours; they must agree");
        if (groups.Any(g => g < 0 || g >= groupNames.Count))
            throw new ArgumentException($"group ids must lie in [0, {groupNames.Count})", nameof(groups));

        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (rgb is not null)
        {
            for (var i = 0; i < x.Count; i++)
                if (double.IsFinite(x[i]) && double.IsFinite(y[i]))
                    plot.Add.Marker(x[i], y[i], MarkerShape.FilledCircle, 5, new Color(rgb[i].R, rgb[i].G, rgb[i].B));
        }
        else
        {
            var palette = new ScottPlot.Palettes.Category10();
            for (var g = 0; g < groupNames.Count; g++)
            {
                var members = Enumerable.Range(0, x.Count).Where(i => groups[i] == g && double.IsFinite(x[i]) && double.IsFinite(y[i])).ToList();
                if (members.Count == 0) continue;
                var markers = plot.Add.Markers(members.Select(i => x[i]).ToArray(), members.Select(i => y[i]).ToArray(),
                    MarkerShape.FilledCircle, 5, palette.GetColor(g).WithAlpha(0.7));
                markers.LegendText = groupNames[g];
            }
            plot.ShowLegend();
        }
        Save(plot, path);
    }

    private static double Err(double error) => double.IsFinite(error) ? Math.Abs(error) : 0;

    /// <summary>[low, high] widened by the given fractions of its span on each side (of |value| or 1 when the span is 0).</summary>
    private static (double Low, double High) Padded(double low, double high, double below, double above)
    {
        var span = high - low;
        if (span <= 0) span = Math.Abs(high) > 0 ? Math.Abs(high) * 0.1 : 1;
        return (low - below * span, high + above * span);
    }

    private static void Save(Plot plot, string path) =>
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
}
