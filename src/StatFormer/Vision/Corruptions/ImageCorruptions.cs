using StatFormer.Data;
using StatFormer.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// The CIFAR-10-C corruptions (Hendrycks &amp; Dietterich 2019) at severities 1 … 5 and the MNIST-C ones (Mu &amp; Gilmer
/// 2019) at their one level, written from the benchmarks' definitions and per-severity parameters (docs/vision.md,
/// "Corruptions"), as tensor operations on float images [N,C,H,W] in [0, 1]. Every random draw comes from the
/// generator passed in; <see cref="GeneratorFor"/> gives one per (seed, set, corruption, severity), so a corruption's
/// images never depend on which others were computed before it.
/// </summary>
public static class ImageCorruptions
{
    /// <summary>The generator of one (set, corruption, severity) under the run's corruption seed (stream "corruption/set/kind/severity").</summary>
    public static Generator GeneratorFor(int seed, CorruptionSet set, CorruptionKind kind, int severity) =>
        new((ulong)Seeds.ForName(seed, $"corruption/{EnumNames.Cli(set)}/{EnumNames.Cli(kind)}/{severity}"));

    /// <summary>The corrupted images, clipped to [0, 1]; the input is not changed.</summary>
    /// <exception cref="ArgumentException">A corruption left out or not in the set, a severity out of range, or images of the wrong shape for the set.</exception>
    public static Tensor Apply(CorruptionSet set, CorruptionKind kind, int severity, Tensor images, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(generator);
        if (CorruptionSets.LeftOut(set, kind) is { } why) throw new ArgumentException($"{EnumNames.Cli(kind)} ({EnumNames.Cli(set)}) is not built: {why}", nameof(kind));
        if (severity < 1 || severity > CorruptionSets.Severities(set))
            throw new ArgumentOutOfRangeException(nameof(severity), severity, $"{EnumNames.Cli(set)} has severities 1 … {CorruptionSets.Severities(set)}");
        if (images.dim() != 4) throw new ArgumentException($"images must be [N,C,H,W] (got {images.dim()} dimensions)", nameof(images));
        var channels = (int)images.shape[1];
        if (CorruptionSets.For(channels) != set)
            throw new ArgumentException($"{EnumNames.Cli(set)} is for {(set == CorruptionSet.Cifar10C ? "3-channel" : "1-channel")} images (got {channels} channels)", nameof(images));
        if (set == CorruptionSet.MnistC && (images.shape[2] != 28 || images.shape[3] != 28))
            throw new ArgumentException($"MNIST-C is defined on 28×28 digits (got {images.shape[2]}×{images.shape[3]})", nameof(images));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = images.detach().to_type(ScalarType.Float32);
        var corrupted = set == CorruptionSet.Cifar10C ? Cifar(kind, severity - 1, x, generator) : MnistCorruptions.Apply(kind, x, generator);
        return corrupted.clamp(0, 1).to_type(images.dtype).MoveToOuterDisposeScope();
    }

    // Per severity 1 … 5, the CIFAR-10-C parameters (make_cifar_c.py's tables).
    internal static readonly double[] GaussianNoiseStd = [0.04, 0.06, 0.08, 0.09, 0.10];
    internal static readonly double[] ShotNoiseRate = [500, 250, 100, 75, 50];
    internal static readonly double[] ImpulseAmount = [0.01, 0.02, 0.03, 0.05, 0.07];
    internal static readonly double[] SpeckleStd = [0.06, 0.1, 0.12, 0.16, 0.2];
    internal static readonly double[] GaussianBlurSigma = [0.4, 0.6, 0.7, 0.8, 1];
    internal static readonly (double Sigma, int Delta, int Iterations)[] GlassBlur = [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)];
    internal static readonly (double Radius, double Alias)[] DefocusBlur = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)];
    internal static readonly (double Radius, double Sigma)[] MotionBlur = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)];
    // NumPy's arange(1, end, 0.01): 1.00 … 1.06, 1.11, 1.15, 1.20, 1.25 (the end is included or not as the float arithmetic falls).
    internal static readonly int[] ZoomSteps = [7, 12, 16, 21, 26];
    internal static readonly (double Loc, double Scale, double Zoom, double Threshold, double Radius, double Sigma, double Blend)[] Snow =
        [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9), (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)];
    internal static readonly (double Amount, double Decay)[] Fog = [(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)];
    internal static readonly double[] BrightnessShift = [0.05, 0.1, 0.15, 0.2, 0.3];
    internal static readonly double[] ContrastFactor = [0.75, 0.5, 0.4, 0.3, 0.15];
    // (α, σ, affine jitter) in pixels of a 32-pixel image.
    internal static readonly (double Alpha, double Sigma, double Affine)[] Elastic =
        [(0, 0, 32 * 0.08), (32 * 0.05, 32 * 0.2, 32 * 0.07), (32 * 0.08, 32 * 0.06, 32 * 0.06), (32 * 0.1, 32 * 0.04, 32 * 0.05), (32 * 0.1, 32 * 0.03, 32 * 0.03)];
    internal static readonly double[] PixelateFraction = [0.95, 0.9, 0.85, 0.75, 0.65];
    internal static readonly int[] JpegQuality = [80, 65, 58, 50, 40];
    internal static readonly (double Scale, double Shift)[] Saturate = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)];

    private static Tensor Cifar(CorruptionKind kind, int s, Tensor x, Generator g) => kind switch
    {
        CorruptionKind.GaussianNoise => x + torch.randn(x.shape, generator: g) * GaussianNoiseStd[s],
        CorruptionKind.ShotNoise => ShotNoise(x, ShotNoiseRate[s], g),
        CorruptionKind.ImpulseNoise => ImpulseNoise(x, ImpulseAmount[s], g),
        CorruptionKind.SpeckleNoise => x + x * torch.randn(x.shape, generator: g) * SpeckleStd[s],
        CorruptionKind.GaussianBlur => ImageFilters.GaussianBlur(x, GaussianBlurSigma[s], BorderMode.Nearest),
        CorruptionKind.GlassBlur => GlassBlurOf(x, GlassBlur[s].Sigma, GlassBlur[s].Delta, GlassBlur[s].Iterations, coinFlip: false, g),
        CorruptionKind.DefocusBlur => ImageFilters.Filter2d(x, DiskKernel(DefocusBlur[s].Radius, DefocusBlur[s].Alias), BorderMode.Mirror),
        CorruptionKind.MotionBlur => ImageFilters.MotionBlur(x, MotionBlur[s].Radius, MotionBlur[s].Sigma, Angles(x.shape[0], -45, 45, g)),
        CorruptionKind.ZoomBlur => ZoomBlur(x, ZoomSteps[s]),
        CorruptionKind.Snow => SnowOf(x, s, g),
        CorruptionKind.Fog => FogOf(x, Fog[s].Amount, Fog[s].Decay, g),
        CorruptionKind.Brightness => ImageFilters.WithValue(x, v => (v + BrightnessShift[s]).clamp(0, 1)),
        CorruptionKind.Contrast => ContrastOf(x, ContrastFactor[s]),
        CorruptionKind.Elastic => ElasticOf(x, Elastic[s].Alpha, Elastic[s].Sigma, Elastic[s].Affine, g),
        CorruptionKind.Pixelate => Pixelate(x, PixelateFraction[s]),
        CorruptionKind.Jpeg => JpegRoundTrip.Apply(x, JpegQuality[s]),
        CorruptionKind.Spatter => Spatter.Apply(x, s, g),
        CorruptionKind.Saturate => ImageFilters.WithSaturation(x, v => (v * Saturate[s].Scale + Saturate[s].Shift).clamp(0, 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a CIFAR-10-C corruption"),
    };

    /// <summary>Poisson counts at rate x·λ, divided by λ.</summary>
    internal static Tensor ShotNoise(Tensor x, double rate, Generator g) => torch.poisson(x * rate, g) / rate;

    /// <summary>skimage's salt-and-pepper: each value independently replaced with probability <paramref name="amount"/>, by 1 or 0 with equal odds.</summary>
    internal static Tensor ImpulseNoise(Tensor x, double amount, Generator g)
    {
        var flipped = torch.rand(x.shape, generator: g) <= amount;
        var salted = torch.rand(x.shape, generator: g) <= 0.5;
        return torch.where(flipped, salted.to_type(x.dtype), x);
    }

    internal static double[] Angles(long n, double low, double high, Generator g) =>
        torch.rand(n, dtype: ScalarType.Float64, generator: g).data<double>().Select(u => low + (high - low) * u).ToArray();

    /// <summary>
    /// Glass blur: Gaussian blur (σ), 8-bit truncation, then per iteration every pixel from the bottom-right corner up to
    /// (δ+1, δ+1) swaps with the one at (row + dy, column + dx), dx, dy uniform integers in [−δ, δ) (MNIST-C: only when a
    /// fair coin says so), then the blur again.
    /// </summary>
    internal static Tensor GlassBlurOf(Tensor x, double sigma, int delta, int iterations, bool coinFlip, Generator g)
    {
        var blurred = ImageFilters.GaussianBlur(x, sigma, BorderMode.Nearest);
        var (n, c, h, w) = ((int)x.shape[0], (int)x.shape[1], (int)x.shape[2], (int)x.shape[3]);
        var pixels = blurred.mul(255).floor().div(255).contiguous().data<float>().ToArray();
        var positions = Math.Max(0, h - 2 * delta) * Math.Max(0, w - 2 * delta);
        var coins = coinFlip ? torch.randint(0, 2, [n, iterations, positions], generator: g).data<long>().ToArray() : null;
        var offsets = torch.randint(-delta, delta, [n, iterations, positions, 2], generator: g).data<long>().ToArray();
        var plane = h * w;
        for (var image = 0; image < n; image++)
            for (var it = 0; it < iterations; it++)
            {
                var k = 0;
                for (var row = h - delta; row > delta; row--)
                    for (var column = w - delta; column > delta; column--, k++)
                    {
                        var draw = (image * iterations + it) * positions + k;
                        // NumPy's choice([True, False]): index 0 is True.
                        if (coins is not null && coins[draw] != 0) continue;
                        var (dx, dy) = ((int)offsets[2 * draw], (int)offsets[2 * draw + 1]);
                        var (row2, column2) = (row + dy, column + dx);
                        for (var channel = 0; channel < c; channel++)
                        {
                            var baseIndex = (image * c + channel) * plane;
                            (pixels[baseIndex + row * w + column], pixels[baseIndex + row2 * w + column2]) =
                                (pixels[baseIndex + row2 * w + column2], pixels[baseIndex + row * w + column]);
                        }
                    }
            }
        var shuffled = HostTensor.From(pixels, new long[] { n, c, h, w });
        return ImageFilters.GaussianBlur(shuffled.clamp(0, 1), sigma, BorderMode.Nearest);
    }

    /// <summary>
    /// Defocus blur's kernel: the disk X² + Y² ≤ r² on the 17 × 17 grid −8 … 8 (radius ≤ 8; else −r … r), normalised,
    /// then blurred by OpenCV's 3 × 3 Gaussian (5 × 5 above radius 8) of σ = alias (borders mirrored).
    /// </summary>
    internal static double[,] DiskKernel(double radius, double alias)
    {
        var (half, blurSize) = radius <= 8 ? (8, 3) : ((int)radius, 5);
        var size = 2 * half + 1;
        var disk = new double[size, size];
        double total = 0;
        for (var i = 0; i < size; i++)
            for (var j = 0; j < size; j++)
            {
                var (y, x) = (i - half, j - half);
                disk[i, j] = x * x + y * y <= radius * radius ? 1 : 0;
                total += disk[i, j];
            }
        var weights = Enumerable.Range(0, blurSize).Select(k => Math.Exp(-Math.Pow(k - blurSize / 2, 2) / (2 * alias * alias))).ToArray();
        var sum = weights.Sum();
        var rows = PadIndicesInt(size, blurSize / 2);
        var kernel = new double[size, size];
        for (var i = 0; i < size; i++)
            for (var j = 0; j < size; j++)
            {
                double value = 0;
                for (var a = 0; a < blurSize; a++)
                    for (var b = 0; b < blurSize; b++)
                        value += weights[a] * weights[b] / (sum * sum) * disk[rows[i + a], rows[j + b]] / total;
                kernel[i, j] = value;
            }
        return kernel;
    }

    private static int[] PadIndicesInt(int n, int pad) => ImageFilters.PadIndices(n, pad, pad, BorderMode.Mirror).Select(i => (int)i).ToArray();

    /// <summary>Each image sampled at c + (p − c)/z about its centre c, bilinearly: the zoomed-in centre.</summary>
    internal static Tensor Zoom(Tensor x, double factor)
    {
        var (h, w) = (x.shape[2], x.shape[3]);
        var (xs, ys) = ImageFilters.Grid(h, w);
        var (cx, cy) = ((w - 1) / 2.0, (h - 1) / 2.0);
        return ImageFilters.Sample(x, (xs - cx) / factor + cx, (ys - cy) / factor + cy, "border");
    }

    /// <summary>Zoom blur: the mean of the image and its zooms by 1, 1.01, … (<paramref name="steps"/> factors).</summary>
    internal static Tensor ZoomBlur(Tensor x, int steps)
    {
        var sum = x.clone();
        for (var k = 0; k < steps; k++) sum += Zoom(x, 1 + 0.01 * k);
        return sum / (steps + 1);
    }

    private static Tensor SnowOf(Tensor x, int s, Generator g)
    {
        var p = Snow[s];
        var (n, h, w) = (x.shape[0], x.shape[2], x.shape[3]);
        var layer = torch.randn([n, 1, h, w], generator: g) * p.Scale + p.Loc;
        layer = Zoom(layer, p.Zoom);
        layer = torch.where(layer < p.Threshold, torch.zeros_like(layer), layer);
        // The layer goes through an 8-bit greyscale image before ImageMagick blurs it.
        layer = layer.clamp(0, 1).mul(255).floor().div(255);
        layer = ImageFilters.MotionBlur(layer, p.Radius, p.Sigma, Angles(n, -135, -45, g));
        var grey = (x[.., 0..1] * 0.299 + x[.., 1..2] * 0.587 + x[.., 2..3] * 0.114) * 1.5 + 0.5;
        var whitened = x * p.Blend + torch.maximum(x, grey) * (1 - p.Blend);
        return whitened + layer + layer.flip(2, 3);
    }

    /// <summary>Fog: x + a·plasma (one fractal per image, cropped from a power-of-two map), rescaled by max/(max + a), max over the image.</summary>
    internal static Tensor FogOf(Tensor x, double amount, double decay, Generator g, int? mapSize = null)
    {
        var (n, h, w) = ((int)x.shape[0], (int)x.shape[2], (int)x.shape[3]);
        var size = mapSize ?? (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(h, w));
        var maps = new float[n * h * w];
        for (var image = 0; image < n; image++)
        {
            var map = ImageFilters.PlasmaFractal(size, decay, g);
            for (var i = 0; i < h; i++)
                for (var j = 0; j < w; j++) maps[(image * h + i) * w + j] = (float)map[i, j];
        }
        var plasma = HostTensor.From(maps, new long[] { n, 1, h, w });
        var max = x.amax([1, 2, 3], keepdim: true);
        return (x + plasma * amount) * max / (max + amount);
    }

    private static Tensor ContrastOf(Tensor x, double factor)
    {
        var means = x.mean([2, 3], keepdim: true);
        return (x - means) * factor + means;
    }

    /// <summary>Pixelate: PIL-BOX resize to ⌊H·f⌋ × ⌊W·f⌋ and back.</summary>
    internal static Tensor Pixelate(Tensor x, double fraction)
    {
        var (h, w) = ((int)x.shape[2], (int)x.shape[3]);
        var small = ImageFilters.BoxResize(x, (int)(h * fraction), (int)(w * fraction));
        return ImageFilters.BoxResize(small, h, w);
    }

    /// <summary>
    /// Elastic transform: a random affine map (the three points (c+k, c+k), (c+k, c−k), (c−k, c−k), c = ⌊size/2⌋,
    /// k = ⌊min size/3⌋, each moved by U(−jitter, jitter)), then a displacement field α·Gaussian_σ(U(−1, 1)) per axis
    /// (σ-blur reflected at the borders, truncated at 3σ); both bilinear, reflected at the borders.
    /// </summary>
    private static Tensor ElasticOf(Tensor x, double alpha, double sigma, double jitter, Generator g)
    {
        var (n, h, w) = ((int)x.shape[0], (int)x.shape[2], (int)x.shape[3]);
        var (cx, cy) = ((double)(w / 2), (double)(h / 2));
        var k = (double)(Math.Min(h, w) / 3);
        double[][] from = [[cx + k, cy + k], [cx + k, cy - k], [cx - k, cy - k]];
        var moves = torch.rand([n, 3, 2], dtype: ScalarType.Float64, generator: g).data<double>().ToArray();
        var inverse = new float[n * 6];
        for (var image = 0; image < n; image++)
        {
            var to = Enumerable.Range(0, 3).Select(p => new[]
            {
                from[p][0] + (2 * moves[image * 6 + 2 * p] - 1) * jitter, from[p][1] + (2 * moves[image * 6 + 2 * p + 1] - 1) * jitter,
            }).ToArray();
            // warpAffine without WARP_INVERSE_MAP: the output at p is the input at M⁻¹p, M the map from → to.
            var m = AffineFromPoints(to, from);
            for (var e = 0; e < 6; e++) inverse[image * 6 + e] = (float)m[e];
        }
        var a = torch.tensor(inverse).reshape(n, 6, 1, 1);
        var (xs, ys) = ImageFilters.Grid(h, w);
        var sourceX = a[.., 0] * xs + a[.., 1] * ys + a[.., 2];
        var sourceY = a[.., 3] * xs + a[.., 4] * ys + a[.., 5];
        var warped = ImageFilters.Sample(x, sourceX, sourceY, "reflection");
        var dx = ImageFilters.GaussianBlur(torch.rand([n, 1, h, w], generator: g) * 2 - 1, sigma, BorderMode.Symmetric, truncate: 3) * alpha;
        var dy = ImageFilters.GaussianBlur(torch.rand([n, 1, h, w], generator: g) * 2 - 1, sigma, BorderMode.Symmetric, truncate: 3) * alpha;
        return ImageFilters.Sample(warped, xs + dx.squeeze(1), ys + dy.squeeze(1), "reflection");
    }

    /// <summary>The affine map (a, b, c, d, e, f): x' = a·x + b·y + c, y' = d·x + e·y + f that sends the three points <paramref name="source"/> to <paramref name="target"/>.</summary>
    internal static double[] AffineFromPoints(double[][] source, double[][] target)
    {
        // Solve [x y 1] · (a b c)ᵀ = x' and likewise for y', by Cramer's rule on the 3 × 3 system.
        double Det(double[,] m) => m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
            + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);
        var basis = new double[3, 3];
        for (var p = 0; p < 3; p++) (basis[p, 0], basis[p, 1], basis[p, 2]) = (source[p][0], source[p][1], 1);
        var det = Det(basis);
        var result = new double[6];
        for (var axis = 0; axis < 2; axis++)
            for (var unknown = 0; unknown < 3; unknown++)
            {
                var m = (double[,])basis.Clone();
                for (var p = 0; p < 3; p++) m[p, unknown] = target[p][axis];
                result[axis * 3 + unknown] = Det(m) / det;
            }
        return result;
    }
}
