using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// MNIST-C (Mu &amp; Gilmer 2019) on 28 × 28 grey digits: each corruption at the one level the benchmark uses (the
/// default severity of its function in the MNIST-C release). The affine ones keep the image centre (13.5, 13.5) fixed
/// and fill with black, as skimage's warp does.
/// </summary>
internal static class MnistCorruptions
{
    internal const double ShotNoiseRate = 3;          // severity 5 of [60, 25, 12, 5, 3]
    internal const double ImpulseAmount = 0.17;       // severity 4 of [.03, .06, .09, .17, .27]
    internal const double GlassSigma = 0.7;           // severity 1: (σ 0.7, δ 1, 2 iterations)
    internal const double MotionRadius = 10, MotionSigma = 3;   // severity 1
    internal const double ShearAmount = 0.4;          // severity 2, random sign
    internal const double ScaleFactor = 1 / 0.7;      // severity 3: the digit shrinks to 70 %
    internal const double RotateRadians = 0.4;        // severity 2, random sign
    internal const double BrightnessShift = 0.5;      // severity 5
    internal const int TranslatePixels = 3;           // severity 3, random sign per axis
    internal const double FogAmount = 3.0, FogDecay = 1.4;      // severity 5, 256 × 256 map cropped
    internal const double SpatterLoc = 0.65, SpatterScale = 0.3, SpatterSigma = 1, SpatterThreshold = 0.65, SpatterMudSigma = 1.5; // severity 4 (mud)

    public static Tensor Apply(CorruptionKind kind, Tensor x, Generator g) => kind switch
    {
        CorruptionKind.ShotNoise => ImageCorruptions.ShotNoise(x, ShotNoiseRate, g),
        CorruptionKind.ImpulseNoise => ImageCorruptions.ImpulseNoise(x, ImpulseAmount, g),
        CorruptionKind.GlassBlur => ImageCorruptions.GlassBlurOf(x, GlassSigma, 1, 2, coinFlip: true, g),
        CorruptionKind.MotionBlur => ImageFilters.MotionBlur(x, MotionRadius, MotionSigma, ImageCorruptions.Angles(x.shape[0], -45, 45, g)),
        CorruptionKind.Shear => Affine(x, Signs(x.shape[0], g).Select(s => new[] { 1, -Math.Sin(s * ShearAmount), 0, Math.Cos(s * ShearAmount) }).ToArray()),
        CorruptionKind.Scale => Affine(x, Enumerable.Repeat(new[] { ScaleFactor, 0, 0, ScaleFactor }, (int)x.shape[0]).ToArray()),
        CorruptionKind.Rotate => Affine(x, Signs(x.shape[0], g).Select(s => new[] { Math.Cos(s * RotateRadians), -Math.Sin(s * RotateRadians), Math.Sin(s * RotateRadians), Math.Cos(s * RotateRadians) }).ToArray()),
        CorruptionKind.Brightness => x + BrightnessShift,
        CorruptionKind.Translate => Translate(x, g),
        CorruptionKind.Stripe => Stripe(x),
        CorruptionKind.Fog => ImageCorruptions.FogOf(x, FogAmount, FogDecay, g, mapSize: 256),
        CorruptionKind.Spatter => Spatter(x, g),
        CorruptionKind.DottedLine => x + Lines(x, g, dotted: true),
        CorruptionKind.Zigzag => Zigzags(x, g),
        CorruptionKind.CannyEdges => CannyEdges.Detect(x),       // skimage's defaults: σ 1, thresholds 0.1 and 0.2
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an MNIST-C corruption built here"),
    };

    /// <summary>±1 per image, NumPy's choice([−1, 1]).</summary>
    private static int[] Signs(long n, Generator g) => torch.randint(0, 2, n, generator: g).data<long>().Select(b => b == 0 ? -1 : 1).ToArray();

    /// <summary>skimage's warp with inverse map A per image about the centre: the output at p is the input at A(p − c) + c (bilinear, black outside).</summary>
    internal static Tensor Affine(Tensor x, double[][] matrices)
    {
        var (n, h, w) = ((int)x.shape[0], x.shape[2], x.shape[3]);
        var (cx, cy) = ((w - 1) / 2.0, (h - 1) / 2.0);
        var a = torch.tensor(matrices.SelectMany(m => m.Select(v => (float)v)).ToArray()).reshape(n, 4, 1, 1);
        var (xs, ys) = ImageFilters.Grid(h, w);
        var (u, v) = (xs - cx, ys - cy);
        return ImageFilters.Sample(x, a[.., 0] * u + a[.., 1] * v + cx, a[.., 2] * u + a[.., 3] * v + cy, "zeros");
    }

    /// <summary>Shift by ±3 pixels per axis (signs drawn per image): the output at p is the input at p + (dx, dy).</summary>
    private static Tensor Translate(Tensor x, Generator g)
    {
        var n = (int)x.shape[0];
        var signs = torch.randint(0, 2, [n, 2], generator: g).data<long>().Select(b => b == 0 ? -1.0 : 1.0).ToArray();
        var (h, w) = (x.shape[2], x.shape[3]);
        var shift = torch.tensor(signs.Select(s => (float)(s * TranslatePixels)).ToArray()).reshape(n, 2, 1, 1);
        var (xs, ys) = ImageFilters.Grid(h, w);
        return ImageFilters.Sample(x, xs + shift[.., 0], ys + shift[.., 1], "zeros");
    }

    /// <summary>Stripe: columns 0 … 6 and 21 … 27 inverted.</summary>
    private static Tensor Stripe(Tensor x)
    {
        var result = x.clone();
        result[.., .., .., 0..7] = 1 - x[.., .., .., 0..7];
        result[.., .., .., 21..28] = 1 - x[.., .., .., 21..28];
        return result;
    }

    /// <summary>Mud spatter: N(0.65, 0.3) per pixel, σ-1 blur, values below 0.65 dropped; the mask (value above 0.65) blurred by σ 1.5 and kept where ≥ 0.8 paints grey 63/255.</summary>
    private static Tensor Spatter(Tensor x, Generator g)
    {
        var liquid = torch.randn(x.shape, generator: g) * SpatterScale + SpatterLoc;
        liquid = ImageFilters.GaussianBlur(liquid, SpatterSigma, BorderMode.Nearest);
        var mask = ImageFilters.GaussianBlur((liquid > SpatterThreshold).to_type(x.dtype), SpatterMudSigma, BorderMode.Nearest);
        mask = torch.where(mask < 0.8, torch.zeros_like(mask), mask);
        return x * (1 - mask) + mask * (63 / 255.0);
    }

    /// <summary>
    /// MNIST-C's line from (c0, r0) to (c1, r1) on the 28 × 28 grid: intensity log(1 − d/2.3) + 1 clipped to [0, 1] at
    /// row distance d from the line, columns before ⌊c0⌋ and from ⌈c1⌉ on dark; none when c0 = c1.
    /// </summary>
    internal static double[,] Line(double c0, double r0, double c1, double r1)
    {
        var line = new double[28, 28];
        if (c1 == c0) return line;
        var slope = (r1 - r0) / (c1 - c0);
        // NumPy slicing: a negative bound counts from the end, as the reference's [:, :l] and [:, r:] do.
        int Bound(int b) => b < 0 ? Math.Max(0, 28 + b) : Math.Min(b, 28);
        var (left, right) = (Bound((int)Math.Floor(c0)), Bound((int)Math.Ceiling(c1)));
        for (var r = 0; r < 28; r++)
            for (var c = left; c < right; c++)
            {
                var distance = Math.Clamp(Math.Abs(r - (slope * (c - c0) + r0)), 0, 2.3 - 1e-10);
                line[r, c] = Math.Clamp(Math.Log(1 - distance / 2.3) + 1, 0, 1);
            }
        return line;
    }

    /// <summary>Dotted line: a line across the image from row U{0…26} at column 0 to row U{0…26} at column 27, with column pairs 0–1, 4–5, … dark.</summary>
    private static Tensor Lines(Tensor x, Generator g, bool dotted)
    {
        var n = (int)x.shape[0];
        var rows = torch.randint(0, 27, [n, 2], generator: g).data<long>().ToArray();
        var all = new float[n * 28 * 28];
        for (var image = 0; image < n; image++)
        {
            var line = Line(0, rows[2 * image], 27, rows[2 * image + 1]);
            for (var r = 0; r < 28; r++)
                for (var c = 0; c < 28; c++)
                    all[(image * 28 + r) * 28 + c] = dotted && (c / 2) % 2 == 0 ? 0 : (float)line[r, c];
        }
        return HostTensor.From(all, new long[] { n, 1, 28, 28 });
    }

    /// <summary>
    /// Zigzag: from (2, r0) towards (25, r1), r0 = U{0…26}, r1 = r0 + U{−5…4}, a zigzag of segments 2 long and 2 high
    /// (end points ((2i+1)·2, ±2) along the line, rotated onto it), each segment a <see cref="Line"/> added and clipped in turn.
    /// </summary>
    private static Tensor Zigzags(Tensor x, Generator g)
    {
        var n = (int)x.shape[0];
        var draws = torch.randint(0, 27, n, generator: g).data<long>().ToArray();
        var tilts = torch.randint(-5, 5, n, generator: g).data<long>().ToArray();
        var pixels = x.contiguous().data<float>().ToArray();
        const double a = 2, b = 2, c0 = 2, c1 = 25;
        for (var image = 0; image < n; image++)
        {
            double r0 = draws[image], r1 = r0 + tilts[image];
            var theta = Math.Atan((r1 - r0) / (c1 - c0));
            var d = (c1 - c0) / Math.Cos(theta);
            var points = new List<(double C, double R)> { (0, 0) };
            double ri = 0;
            for (var i = 0; i < (int)Math.Floor((d - a) / (2 * a)) + 1; i++)
            {
                ri = (i % 2 == 0 ? 1 : -1) * b;
                points.Add(((2 * i + 1) * a, ri));
            }
            var maxC = 2 * a * Math.Floor(d / (2 * a));
            if (d != maxC) points.Add((d, ri / (2 * (d - maxC))));
            var rotated = points.Select(p => (C: Math.Cos(theta) * p.C - Math.Sin(theta) * p.R + c0, R: Math.Sin(theta) * p.C + Math.Cos(theta) * p.R + r0)).ToList();
            var offset = image * 28 * 28;
            for (var i = 1; i < rotated.Count; i++)
            {
                var line = Line(rotated[i - 1].C, rotated[i - 1].R, rotated[i].C, rotated[i].R);
                for (var r = 0; r < 28; r++)
                    for (var c = 0; c < 28; c++)
                        pixels[offset + r * 28 + c] = (float)Math.Clamp(pixels[offset + r * 28 + c] + line[r, c], 0, 1);
            }
        }
        return HostTensor.From(pixels, x.shape);
    }
}
