using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>How a filter reads pixels outside the image.</summary>
public enum BorderMode
{
    /// <summary>The edge pixel repeats (SciPy/skimage 'nearest', ImageMagick's edge virtual pixels).</summary>
    Nearest,
    /// <summary>Mirror including the edge pixel, d c b a | a b c d (SciPy 'reflect').</summary>
    Symmetric,
    /// <summary>Mirror about the edge pixel, d c b | a b c d (OpenCV's default BORDER_REFLECT_101).</summary>
    Mirror,
    /// <summary>Zeros outside the image (SciPy/skimage 'constant' with cval 0).</summary>
    Zero,
}

/// <summary>
/// The image operations the corruptions are built from, on float images [N,C,H,W]: border-aware padding, separable
/// Gaussian and arbitrary 2-D filters (correlation, as SciPy and OpenCV apply them), ImageMagick's motion blur, bilinear
/// resampling at given pixel coordinates, PIL's box resizing, the plasma fractal and HSV value/saturation changes.
/// </summary>
public static class ImageFilters
{
    /// <summary>Indices into 0 … n−1 for the padded positions −before … n+after−1 under <paramref name="mode"/>.</summary>
    public static long[] PadIndices(int n, int before, int after, BorderMode mode)
    {
        if (mode == BorderMode.Zero) throw new ArgumentException("zero padding reads no pixels of the image: use Pad", nameof(mode));
        var indices = new long[n + before + after];
        for (var k = 0; k < indices.Length; k++)
        {
            var i = k - before;
            indices[k] = mode switch
            {
                BorderMode.Nearest => Math.Clamp(i, 0, n - 1),
                BorderMode.Symmetric => Fold(i, 2 * n, j => j < n ? j : 2 * n - 1 - j),
                BorderMode.Mirror => n == 1 ? 0 : Fold(i, 2 * n - 2, j => j < n ? j : 2 * n - 2 - j),
                _ => throw new ArgumentOutOfRangeException(nameof(mode)),
            };
        }
        return indices;
    }

    private static long Fold(int i, int period, Func<int, int> inPeriod) => inPeriod(((i % period) + period) % period);

    /// <summary>Pads the last two dimensions of [N,C,H,W] by the border rule.</summary>
    public static Tensor Pad(Tensor images, int top, int bottom, int left, int right, BorderMode mode)
    {
        if (mode == BorderMode.Zero) return nn.functional.pad(images, new long[] { left, right, top, bottom });
        var (h, w) = ((int)images.shape[2], (int)images.shape[3]);
        using var rows = torch.tensor(PadIndices(h, top, bottom, mode));
        using var columns = torch.tensor(PadIndices(w, left, right, mode));
        using var tall = images.index_select(2, rows);
        return tall.index_select(3, columns);
    }

    /// <summary>Correlation of every channel with <paramref name="kernel"/> [kh,kw] (odd sizes, anchor at the centre), borders by <paramref name="mode"/> (OpenCV's filter2D).</summary>
    public static Tensor Filter2d(Tensor images, double[,] kernel, BorderMode mode)
    {
        using var scope = torch.NewDisposeScope();
        var (kh, kw) = (kernel.GetLength(0), kernel.GetLength(1));
        var channels = images.shape[1];
        var flat = new float[kh * kw];
        for (var i = 0; i < kh; i++)
            for (var j = 0; j < kw; j++) flat[i * kw + j] = (float)kernel[i, j];
        var weight = torch.tensor(flat, dtype: images.dtype).reshape(1, 1, kh, kw).expand(channels, 1, kh, kw).contiguous();
        var padded = Pad(images, kh / 2, kh / 2, kw / 2, kw / 2, mode);
        return nn.functional.conv2d(padded, weight, groups: channels).MoveToOuterDisposeScope();
    }

    /// <summary>SciPy's 1-D Gaussian weights: radius ⌊truncate·σ + ½⌋, exp(−k²/2σ²), normalised.</summary>
    public static double[] GaussianWeights(double sigma, double truncate)
    {
        var radius = (int)(truncate * sigma + 0.5);
        var weights = Enumerable.Range(-radius, 2 * radius + 1).Select(k => Math.Exp(-0.5 * k * k / (sigma * sigma))).ToArray();
        var sum = weights.Sum();
        return weights.Select(v => v / sum).ToArray();
    }

    /// <summary>
    /// skimage's <c>gaussian</c> / SciPy's <c>gaussian_filter</c> over height and width, each channel on its own:
    /// separable, radius ⌊truncate·σ + ½⌋; σ = 0 leaves the image unchanged, as SciPy does.
    /// </summary>
    public static Tensor GaussianBlur(Tensor images, double sigma, BorderMode mode, double truncate = 4.0)
    {
        if (sigma <= 1e-15) return images.clone();
        var weights = GaussianWeights(sigma, truncate);
        var row = new double[1, weights.Length];
        var column = new double[weights.Length, 1];
        for (var k = 0; k < weights.Length; k++) row[0, k] = column[k, 0] = weights[k];
        using var across = Filter2d(images, row, mode);
        return Filter2d(across, column, mode);
    }

    /// <summary>
    /// ImageMagick's MotionBlurImage per image: a one-sided Gaussian over 2⌈radius⌉+1 taps, weight ∝ exp(−i²/2σ²) at
    /// pixel offsets (⌈i·cos θ − ½⌉, ⌈i·sin θ − ½⌉), i = 0 … 2⌈radius⌉, edge pixels repeated outside.
    /// </summary>
    /// <param name="anglesDegrees">θ per image.</param>
    public static Tensor MotionBlur(Tensor images, double radius, double sigma, IReadOnlyList<double> anglesDegrees)
    {
        var (n, c, h, w) = ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        var width = 2 * (int)Math.Ceiling(radius) + 1;
        var weights = Enumerable.Range(0, width).Select(i => Math.Exp(-(double)i * i / (2 * sigma * sigma))).ToArray();
        var total = weights.Sum();
        var source = images.contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
        var result = new float[source.Length];
        var plane = h * w;
        for (var image = 0; image < n; image++)
        {
            var angle = anglesDegrees[image] * Math.PI / 180;
            var dx = Enumerable.Range(0, width).Select(i => (int)Math.Ceiling(i * Math.Cos(angle) - 0.5)).ToArray();
            var dy = Enumerable.Range(0, width).Select(i => (int)Math.Ceiling(i * Math.Sin(angle) - 0.5)).ToArray();
            for (var channel = 0; channel < c; channel++)
            {
                var offset = (image * c + channel) * plane;
                for (var y = 0; y < h; y++)
                    for (var x = 0; x < w; x++)
                    {
                        double sum = 0;
                        for (var i = 0; i < width; i++)
                            sum += weights[i] * source[offset + Math.Clamp(y + dy[i], 0, h - 1) * w + Math.Clamp(x + dx[i], 0, w - 1)];
                        result[offset + y * w + x] = (float)(sum / total);
                    }
            }
        }
        return HostTensor.From(result, new long[] { n, c, h, w }).to_type(images.dtype);
    }

    /// <summary>
    /// Bilinear samples of each image at pixel coordinates (x = column, y = row; [N,H,W] each, or [1,H,W] for all
    /// images), outside the image by <paramref name="padding"/>: "zeros", "border" or "reflection" (about the edge
    /// pixel centres).
    /// </summary>
    public static Tensor Sample(Tensor images, Tensor x, Tensor y, string padding)
    {
        using var scope = torch.NewDisposeScope();
        var (n, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        // align_corners: −1 and 1 are the centres of the first and last pixels, so pixel coordinates map linearly.
        var gx = x.to_type(images.dtype) * (2.0 / Math.Max(w - 1, 1)) - 1;
        var gy = y.to_type(images.dtype) * (2.0 / Math.Max(h - 1, 1)) - 1;
        var grid = torch.stack([gx, gy], dim: -1).expand(n, h, w, 2);
        var mode = padding switch
        {
            "zeros" => GridSamplePaddingMode.Zeros,
            "border" => GridSamplePaddingMode.Border,
            "reflection" => GridSamplePaddingMode.Reflection,
            _ => throw new ArgumentOutOfRangeException(nameof(padding), padding, "zeros, border or reflection"),
        };
        return nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, mode, align_corners: true).MoveToOuterDisposeScope();
    }

    /// <summary>The pixel grid as coordinates: (x [1,H,W], y [1,H,W]).</summary>
    public static (Tensor X, Tensor Y) Grid(long h, long w)
    {
        var ys = torch.arange(h, dtype: ScalarType.Float32).reshape(1, h, 1).expand(1, h, w);
        var xs = torch.arange(w, dtype: ScalarType.Float32).reshape(1, 1, w).expand(1, h, w);
        return (xs, ys);
    }

    /// <summary>
    /// PIL's BOX resampling of a length-<paramref name="from"/> axis to <paramref name="to"/> (what the benchmarks'
    /// pixelate calls): output pixel o, centred at c = (o + ½)·s in input units (s = from/to), averages with equal weights
    /// the input pixels i whose offset (i + ½ − c)/max(s, 1) lies in (−½, ½], taken from PIL's candidate range
    /// ⌊c − ½·max(s, 1) + ½⌋ … ⌊c + ½·max(s, 1) + ½⌋ − 1. Upsampling is therefore nearest-neighbour.
    /// </summary>
    public static double[,] BoxResizeMatrix(int from, int to)
    {
        var matrix = new double[to, from];
        var scale = (double)from / to;
        var filterScale = Math.Max(scale, 1);
        var support = 0.5 * filterScale;
        for (var o = 0; o < to; o++)
        {
            var center = (o + 0.5) * scale;
            var first = Math.Max((int)(center - support + 0.5), 0);
            var last = Math.Min((int)(center + support + 0.5), from);
            var chosen = Enumerable.Range(first, Math.Max(0, last - first))
                .Where(i => (i - center + 0.5) / filterScale is > -0.5 and <= 0.5).ToList();
            foreach (var i in chosen) matrix[o, i] = 1.0 / chosen.Count;
        }
        return matrix;
    }

    /// <summary>PIL-BOX resize (<see cref="BoxResizeMatrix"/>) of [N,C,H,W] to [N,C,height,width].</summary>
    public static Tensor BoxResize(Tensor images, int height, int width)
    {
        using var scope = torch.NewDisposeScope();
        var rows = ToTensor(BoxResizeMatrix((int)images.shape[2], height), images.dtype);
        var columns = ToTensor(BoxResizeMatrix((int)images.shape[3], width), images.dtype);
        return torch.matmul(torch.matmul(rows, images), columns.t()).MoveToOuterDisposeScope();
    }

    private static Tensor ToTensor(double[,] matrix, ScalarType dtype)
    {
        var (r, c) = (matrix.GetLength(0), matrix.GetLength(1));
        var flat = new double[r * c];
        for (var i = 0; i < r; i++)
            for (var j = 0; j < c; j++) flat[i * c + j] = matrix[i, j];
        return HostTensor.From(flat, new long[] { r, c }).to_type(dtype);
    }

    /// <summary>
    /// The diamond-square plasma fractal of Hendrycks &amp; Dietterich's fog: a size × size map (a power of two), corner 0,
    /// each new point the mean of its four parents plus wibble·U(−wibble, wibble), wibble starting at 100 and divided by
    /// <paramref name="decay"/> after each level, the neighbours wrapping around; finally scaled to [0, 1].
    /// </summary>
    public static double[,] PlasmaFractal(int size, double decay, Generator generator)
    {
        if (size < 2 || (size & (size - 1)) != 0) throw new ArgumentException($"must be a power of two (got {size})", nameof(size));
        var map = new double[size, size];
        var wibble = 100.0;
        for (var step = size; step >= 2; step /= 2, wibble /= decay)
        {
            var half = step / 2;
            var cells = size / step;
            // Squares: the centre of each step × step square from its four corners.
            var noise = Uniform(cells * cells, wibble, generator);
            for (var i = 0; i < cells; i++)
                for (var j = 0; j < cells; j++)
                {
                    var (r, c) = (i * step, j * step);
                    var (r2, c2) = ((r + step) % size, (c + step) % size);
                    map[r + half, c + half] = (map[r, c] + map[r2, c] + map[r, c2] + map[r2, c2]) / 4 + wibble * noise[i * cells + j];
                }
            // Diamonds: the points between two corners along a row, then along a column, from the two corners and the two centres beside them.
            var rowNoise = Uniform(cells * cells, wibble, generator);
            var columnNoise = Uniform(cells * cells, wibble, generator);
            var rowValues = new double[cells, cells];
            var columnValues = new double[cells, cells];
            for (var i = 0; i < cells; i++)
                for (var j = 0; j < cells; j++)
                {
                    var (r, c) = (i * step, j * step);
                    var up = ((i - 1 + cells) % cells) * step + half;
                    var left = ((j - 1 + cells) % cells) * step + half;
                    rowValues[i, j] = (map[r + half, c + half] + map[up, c + half] + map[r, c] + map[r, (c + step) % size]) / 4 + wibble * rowNoise[i * cells + j];
                    columnValues[i, j] = (map[r + half, c + half] + map[r + half, left] + map[r, c] + map[(r + step) % size, c]) / 4 + wibble * columnNoise[i * cells + j];
                }
            for (var i = 0; i < cells; i++)
                for (var j = 0; j < cells; j++)
                {
                    map[i * step, j * step + half] = rowValues[i, j];
                    map[i * step + half, j * step] = columnValues[i, j];
                }
        }
        var min = map.Cast<double>().Min();
        var max = map.Cast<double>().Max() - min;
        for (var i = 0; i < size; i++)
            for (var j = 0; j < size; j++) map[i, j] = (map[i, j] - min) / max;
        return map;
    }

    private static double[] Uniform(int count, double halfWidth, Generator generator)
    {
        using var draws = torch.rand(count, dtype: ScalarType.Float64, generator: generator);
        return draws.data<double>().Select(u => (2 * u - 1) * halfWidth).ToArray();
    }

    /// <summary>
    /// skimage's HSV round trip with the value V = max over channels replaced by <paramref name="value"/>(V) (hue and
    /// saturation kept): every channel scales by V'/V, and a black pixel becomes grey V'. [N,3,H,W].
    /// </summary>
    public static Tensor WithValue(Tensor images, Func<Tensor, Tensor> value)
    {
        using var scope = torch.NewDisposeScope();
        var v = images.amax([1], keepdim: true);
        var changed = value(v);
        var scaled = images * (changed / v.clamp_min(1e-12));
        return torch.where(v > 0, scaled, changed.expand_as(images)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// skimage's HSV round trip with the saturation S = (V − min)/V replaced by <paramref name="saturation"/>(S) (hue and
    /// value kept): channel k becomes V − (V − x_k)·S'/S; a grey pixel (S = 0, hue 0 = red) becomes (V, V(1 − S'), V(1 − S')).
    /// </summary>
    public static Tensor WithSaturation(Tensor images, Func<Tensor, Tensor> saturation)
    {
        using var scope = torch.NewDisposeScope();
        var v = images.amax([1], keepdim: true);
        var s = torch.where(v > 0, (v - images.amin([1], keepdim: true)) / v.clamp_min(1e-12), torch.zeros_like(v));
        var changed = saturation(s);
        var coloured = v - (v - images) * (changed / s.clamp_min(1e-12));
        var grey = torch.cat([v, v * (1 - changed), v * (1 - changed)], dim: 1);
        return torch.where(s > 0, coloured, grey).MoveToOuterDisposeScope();
    }
}
