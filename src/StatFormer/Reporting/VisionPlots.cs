using System.Globalization;
using SkiaSharp;
using StatFormer.IO;
using StatFormer.Training;
using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Reporting;

/// <summary>The figures of vision runs and comparisons: learning curves, robust accuracy against ε, the elliptical metric and representation collapse per layer, and a grid of clean vs adversarial images.</summary>
public static class VisionPlots
{
    /// <summary>Training loss (mean over each log window) against the step.</summary>
    public static void LearningCurve(string path, string label, IReadOnlyList<MetricRecord> history)
    {
        var points = history.Where(r => r.Split == MetricRecord.TrainSplit).ToList();
        if (points.Count == 0) return;
        Plots.LineChart(path, $"Learning curve ({label})", "step", "training cross-entropy (label-smoothed)",
            [new Series($"{label} train", points.Select(p => (double)p.Step).ToList(), points.Select(p => p.Loss).ToList())]);
    }

    /// <summary>One curve per (model, attack): robust accuracy (%) against ε·255, with the clean accuracy at ε = 0.</summary>
    public static void RobustAccuracy(string path, string title, IReadOnlyList<(string Label, RobustnessResult Result)> results)
    {
        var series = new List<Series>();
        foreach (var (label, result) in results)
            foreach (var curve in result.Curves)
                series.Add(new Series($"{label} {curve.Attack}", [0, .. curve.Points.Select(p => p.Epsilon * 255)],
                    [100 * result.CleanAccuracy, .. curve.Points.Select(p => 100 * p.RobustAccuracy)]));
        Plots.LineChart(path, title, "ε × 255", "accuracy (%)", series);
    }

    /// <summary>
    /// A grid of <c>n</c> test images (rows): the clean image with its true label, then per column an image (adversarial
    /// for one model, or the clean one) with that model's prediction, green when right and red when wrong.
    /// </summary>
    /// <param name="columns">Per column: a heading, images float [n,C,H,W] in [0, 1] and the predictions [n].</param>
    /// <param name="rowCaptions">Optional captions under the first column in place of the true labels (e.g. each row's corruption).</param>
    public static void ExampleGrid(string path, string title, Tensor clean, IReadOnlyList<long> labels,
        IReadOnlyList<(string Heading, Tensor Images, IReadOnlyList<long> Predictions)> columns, IReadOnlyList<string> classNames,
        IReadOnlyList<string>? rowCaptions = null)
    {
        ArgumentNullException.ThrowIfNull(clean);
        var n = (int)clean.shape[0];
        const int cell = 96, caption = 18, margin = 8, header = 44;
        // Wide enough for the title too (about 7 pixels per character at 14 points).
        var width = Math.Max(margin + (columns.Count + 1) * (cell + margin), 2 * margin + 7 * title.Length);
        var height = header + n * (cell + caption + margin);
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 12);
        using var titleFont = new SKFont(SKTypeface.Default, 14);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var right = new SKPaint { Color = new SKColor(0, 128, 0), IsAntialias = true };
        using var wrong = new SKPaint { Color = new SKColor(200, 0, 0), IsAntialias = true };
        canvas.DrawText(title, margin, 16, SKTextAlign.Left, titleFont, ink);
        string Name(long c) => c >= 0 && c < classNames.Count ? classNames[(int)c] : c.ToString(CultureInfo.InvariantCulture);
        canvas.DrawText(rowCaptions is null ? "clean (label)" : "clean", margin, header - 6, SKTextAlign.Left, font, ink);
        for (var c = 0; c < columns.Count; c++)
            canvas.DrawText(columns[c].Heading, margin + (c + 1) * (cell + margin), header - 6, SKTextAlign.Left, font, ink);
        for (var i = 0; i < n; i++)
        {
            var top = header + i * (cell + caption + margin);
            DrawImage(canvas, clean[i], margin, top, cell);
            canvas.DrawText(rowCaptions?[i] ?? Name(labels[i]), margin, top + cell + 14, SKTextAlign.Left, font, ink);
            for (var c = 0; c < columns.Count; c++)
            {
                var left = margin + (c + 1) * (cell + margin);
                DrawImage(canvas, columns[c].Images[i], left, top, cell);
                var predicted = columns[c].Predictions[i];
                canvas.DrawText(Name(predicted), left, top + cell + 14, SKTextAlign.Left, font, predicted == labels[i] ? right : wrong);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, png.ToArray());
    }

    /// <summary>One image [C,H,W] in [0, 1] (1 or 3 channels) scaled to a <paramref name="size"/>-pixel square, nearest neighbour.</summary>
    private static void DrawImage(SKCanvas canvas, Tensor image, int left, int top, int size)
    {
        using var scope = torch.NewDisposeScope();
        var (channels, h, w) = ((int)image.shape[0], (int)image.shape[1], (int)image.shape[2]);
        var bytes = image.clamp(0, 1).mul(255).round().to_type(ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        using var small = new SKBitmap(w, h);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var at = (y * w + x) * channels;
                small.SetPixel(x, y, channels == 3 ? new SKColor(bytes[at], bytes[at + 1], bytes[at + 2]) : new SKColor(bytes[at], bytes[at], bytes[at]));
            }
        canvas.DrawBitmap(small, new SKRect(left, top, left + size, top + size));
    }
}
