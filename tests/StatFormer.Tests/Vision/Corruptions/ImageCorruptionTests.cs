using StatFormer.Options;
using StatFormer.Tests.Vision.Data;
using StatFormer.Vision.Corruptions;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Corruptions;

public sealed class ImageCorruptionTests(ITestOutputHelper output)
{
    /// <summary>Fixed colour test images [n,3,32,32]: smooth waves plus a step edge, every value strictly inside (0, 1).</summary>
    internal static Tensor ColourImages(int n)
    {
        var values = new float[n * 3 * 32 * 32];
        for (var i = 0; i < n; i++)
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < 32; y++)
                    for (var x = 0; x < 32; x++)
                        values[((i * 3 + c) * 32 + y) * 32 + x] = (float)Math.Clamp(0.45 + 0.25 * Math.Sin(0.3 * x + 0.7 * c + i) * Math.Cos(0.2 * y - 0.4 * i)
                            + (x > 10 + i && y < 20 ? 0.2 : -0.1), 0.02, 0.98);
        return torch.tensor(values).reshape(n, 3, 32, 32);
    }

    /// <summary>Fixed grey digit-like images [n,1,28,28]: a bright ring on black, shifted per image.</summary>
    internal static Tensor DigitImages(int n)
    {
        var values = new float[n * 28 * 28];
        for (var i = 0; i < n; i++)
            for (var y = 0; y < 28; y++)
                for (var x = 0; x < 28; x++)
                {
                    var r = Math.Sqrt(Math.Pow(y - 13.5 - i % 3, 2) + Math.Pow(x - 13.5 + i % 2, 2));
                    values[(i * 28 + y) * 28 + x] = (float)Math.Clamp(1 - Math.Abs(r - 7) / 2.5, 0, 1);
                }
        return torch.tensor(values).reshape(n, 1, 28, 28);
    }

    private static Tensor Corrupt(CorruptionSet set, CorruptionKind kind, int severity, Tensor images, int seed = 0)
    {
        using var generator = ImageCorruptions.GeneratorFor(seed, set, kind, severity);
        return ImageCorruptions.Apply(set, kind, severity, images, generator);
    }

    private static double MeanAbsChange(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().mean();
        return diff.item<float>();
    }

    public static TheoryData<CorruptionSet, CorruptionKind, int> Every()
    {
        var data = new TheoryData<CorruptionSet, CorruptionKind, int>();
        foreach (var set in new[] { CorruptionSet.Cifar10C, CorruptionSet.MnistC })
            foreach (var kind in CorruptionSets.Built(set))
                for (var s = 1; s <= CorruptionSets.Severities(set); s++) data.Add(set, kind, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(Every))]
    public void StaysInTheUnitRangeKeepsTheShapeAndChangesTheImage(CorruptionSet set, CorruptionKind kind, int severity)
    {
        using var images = set == CorruptionSet.Cifar10C ? ColourImages(4) : DigitImages(4);
        using var corrupted = Corrupt(set, kind, severity, images);
        Assert.Equal(images.shape, corrupted.shape);
        Assert.Equal(ScalarType.Float32, corrupted.dtype);
        Assert.True(corrupted.isfinite().all().item<bool>());
        Assert.True(corrupted.min().item<float>() >= 0 && corrupted.max().item<float>() <= 1);
        var change = MeanAbsChange(corrupted, images);
        output.WriteLine($"{EnumNames.Cli(set)} {EnumNames.Cli(kind)} {severity}: mean |change| {change:F4}");
        Assert.True(change > 1e-3, $"{kind} {severity} changed the images by only {change}");
    }

    // The benchmark's own parameters are not monotone in pixel change for these (documented in docs/vision.md):
    // saturate goes ×0.3, ×0.1, ×1.5, ×2 + 0.1, ×2.5 + 0.2 on the saturation; elastic trades the affine jitter
    // (2.56 px down to 0.96 px) against the displacement field (α 0 up to 3.2 px); spatter is water drops at 1–3 and a
    // patchier mud at 4–5, each mode monotone (checked below).
    private static readonly CorruptionKind[] NotMonotone = [CorruptionKind.Saturate, CorruptionKind.Elastic, CorruptionKind.GlassBlur, CorruptionKind.Spatter];

    [Fact]
    public void SeveritiesAreMonotoneInTheMeanAbsoluteChange()
    {
        using var images = ColourImages(64);
        foreach (var kind in CorruptionSets.Built(CorruptionSet.Cifar10C))
        {
            var changes = Enumerable.Range(1, 5).Select(s =>
            {
                using var corrupted = Corrupt(CorruptionSet.Cifar10C, kind, s, images);
                return MeanAbsChange(corrupted, images);
            }).ToArray();
            output.WriteLine($"{EnumNames.Cli(kind)}: {string.Join(", ", changes.Select(c => c.ToString("F4")))}");
            if (kind == CorruptionKind.Spatter)
                Assert.True(changes[0] < changes[1] && changes[1] < changes[2] && changes[3] < changes[4], $"spatter: {string.Join(", ", changes)}");
            if (NotMonotone.Contains(kind)) continue;
            // Motion blur's severities 3 and 4 are one blur (σ 2; the taps beyond the 13th weigh < e⁻¹⁸), so their
            // random angles decide between them: a 2 % allowance.
            for (var s = 1; s < 5; s++)
                Assert.True(changes[s] >= 0.98 * changes[s - 1], $"{kind}: severity {s + 1} changed less ({changes[s]}) than severity {s} ({changes[s - 1]})");
        }
    }

    [Fact]
    public void SameSeedSameImagesOtherSeedOtherImages()
    {
        using var images = ColourImages(2);
        foreach (var kind in new[] { CorruptionKind.GaussianNoise, CorruptionKind.GlassBlur, CorruptionKind.MotionBlur, CorruptionKind.Snow, CorruptionKind.Fog, CorruptionKind.Elastic })
        {
            using var a = Corrupt(CorruptionSet.Cifar10C, kind, 3, images, seed: 1);
            using var b = Corrupt(CorruptionSet.Cifar10C, kind, 3, images, seed: 1);
            using var c = Corrupt(CorruptionSet.Cifar10C, kind, 3, images, seed: 2);
            Assert.True(TensorAssert.Same(a, b), $"{kind}: same seed, different images");
            Assert.False(TensorAssert.Same(a, c), $"{kind}: another seed, same images");
        }
    }

    [Fact]
    public void EachCorruptionIsIndependentOfTheOrderOfEvaluation()
    {
        using var images = ColourImages(2);
        var kinds = new[] { CorruptionKind.ShotNoise, CorruptionKind.ImpulseNoise, CorruptionKind.Fog, CorruptionKind.Snow };
        var forward = kinds.Select(k => Corrupt(CorruptionSet.Cifar10C, k, 2, images)).ToList();
        var backward = kinds.Reverse().Select(k => Corrupt(CorruptionSet.Cifar10C, k, 2, images)).Reverse().ToList();
        using var alone = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.Fog, 2, images);
        for (var i = 0; i < kinds.Length; i++) Assert.True(TensorAssert.Same(forward[i], backward[i]), kinds[i].ToString());
        Assert.True(TensorAssert.Same(forward[2], alone));
        // Different severities of one corruption are different streams too.
        using var s1 = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.GaussianNoise, 1, images);
        using var s2 = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.GaussianNoise, 2, images);
        using var noise1 = (s1 - images) / 0.04;
        using var noise2 = (s2 - images) / 0.06;
        Assert.True((noise1 - noise2).abs().max().item<float>() > 0.1);
        foreach (var t in forward.Concat(backward)) t.Dispose();
    }

    [Fact]
    public void BrightnessRaisesTheHsvValueByTheDocumentedShift()
    {
        // Severity 2: V + 0.1. (0.2, 0.4, 0.6): V 0.6 → 0.7, hue and saturation kept, so every channel scales by 7/6;
        // black becomes grey 0.1; a pixel at V = 1 stays.
        using var images = torch.tensor(new float[] { 0.2f, 0f, 0.9f, 0.4f, 0f, 0.95f, 0.6f, 0f, 1f }).reshape(1, 3, 1, 3);
        using var corrupted = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.Brightness, 2, images);
        var values = corrupted.data<float>().ToArray();
        float[] expected = [0.2f * 7 / 6, 0.1f, 0.9f, 0.4f * 7 / 6, 0.1f, 0.95f, 0.7f, 0.1f, 1f];
        for (var i = 0; i < 9; i++) Assert.Equal(expected[i], values[i], 5);
    }

    [Fact]
    public void ContrastPullsEachChannelTowardsItsMeanByTheDocumentedFactor()
    {
        // Severity 5: (x − mean)·0.15 + mean per image and channel. Channel 0 is 0, 0, 1, 1 (mean 0.5), channel 1 0.2, 0.2, 0.2, 0.6 (mean 0.3).
        using var images = torch.tensor(new float[] { 0, 0, 1, 1, 0.2f, 0.2f, 0.2f, 0.6f, 0.5f, 0.5f, 0.5f, 0.5f }).reshape(1, 3, 2, 2);
        using var corrupted = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.Contrast, 5, images);
        var values = corrupted.data<float>().ToArray();
        float[] expected = [0.425f, 0.425f, 0.575f, 0.575f, 0.285f, 0.285f, 0.285f, 0.345f, 0.5f, 0.5f, 0.5f, 0.5f];
        for (var i = 0; i < 12; i++) Assert.Equal(expected[i], values[i], 5);
    }

    [Theory]
    [InlineData(1, 0.04)]
    [InlineData(3, 0.08)]
    [InlineData(5, 0.10)]
    public void GaussianNoiseHasTheDocumentedStandardDeviation(int severity, double sigma)
    {
        // Mid-grey, so clipping at 0 and 1 is 5σ away: the noise's mean is 0 and its std the table's σ.
        using var images = torch.full(32, 3, 32, 32, 0.5f);
        using var corrupted = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.GaussianNoise, severity, images);
        using var noise = corrupted - images;
        Assert.Equal(0, noise.mean().item<float>(), 3);
        Assert.Equal(sigma, noise.std().item<float>(), sigma * 0.01);
    }

    [Fact]
    public void ShotAndImpulseNoiseHaveTheDocumentedRates()
    {
        using var images = torch.full(32, 3, 32, 32, 0.5f);
        // Shot noise, severity 1 (λ = 500): Poisson(250)/500, mean 0.5 and std √(0.5/500).
        using var shot = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.ShotNoise, 1, images);
        Assert.Equal(0.5, shot.mean().item<float>(), 3);
        Assert.Equal(Math.Sqrt(0.5 / 500), shot.std().item<float>(), 0.001);
        // Impulse noise, severity 5: 7 % of the values replaced, half by 1 and half by 0.
        using var impulse = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.ImpulseNoise, 5, images);
        var total = (double)impulse.numel();
        var ones = impulse.eq(1).sum().item<long>() / total;
        var zeros = impulse.eq(0).sum().item<long>() / total;
        Assert.Equal(0.035, ones, 0.003);
        Assert.Equal(0.035, zeros, 0.003);
        Assert.Equal(1 - 0.07, impulse.eq(0.5f).sum().item<long>() / total, 0.004);
    }

    [Fact]
    public void PixelateFollowsPilsBoxFilter()
    {
        // 3 → 2 (s = 1.5): output 0 is centred at 0.75 and takes the pixels whose centres lie in (0, 1.5]: 0 and 1;
        // output 1 (centre 2.25, window (1.5, 3]) takes pixel 2 alone.
        var matrix = ImageFilters.BoxResizeMatrix(3, 2);
        Assert.Equal(new double[] { 0.5, 0.5, 0 }, Enumerable.Range(0, 3).Select(i => matrix[0, i]));
        Assert.Equal(new double[] { 0, 0, 1 }, Enumerable.Range(0, 3).Select(i => matrix[1, i]));
        // Upsampling is nearest-neighbour: 2 → 4 repeats each pixel twice.
        var up = ImageFilters.BoxResizeMatrix(2, 4);
        Assert.Equal(new double[] { 1, 1, 0, 0 }, Enumerable.Range(0, 4).Select(o => up[o, 0]));
        // Severity 4 (0.75): 32 → 24 → 32 on columns 1, 1, 0, 0, 1, 1, 0, 0, …. Down (s = 4/3, window 4/3 wide):
        // small[0] = pixel 0 = 1, small[1] = mean of pixels 1, 2 = 0.5, small[2] = pixel 3 = 0. Up: column x takes
        // small[⌊(x + ½)·¾⌋]: columns 0, 1, 2, 3 take small 0, 1, 1, 2.
        var columns = new float[32];
        for (var x = 0; x < 32; x++) columns[x] = x % 4 < 2 ? 1 : 0;
        using var images = torch.tensor(columns).reshape(1, 1, 1, 32).expand(1, 3, 32, 32).contiguous();
        using var corrupted = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.Pixelate, 4, images);
        var row = corrupted[0, 0, 0].data<float>().ToArray();
        Assert.Equal(new float[] { 1, 0.5f, 0.5f, 0 }, row[..4]);
    }

    [Fact]
    public void GaussianBlurAndMotionBlurSpreadAnImpulseByTheirWeights()
    {
        using var impulse = torch.zeros(1, 1, 15, 15);
        impulse[0, 0, 7, 7] = torch.tensor(1f);
        // σ = 1, truncate 4: radius 4, weights exp(−k²/2) normalised; the 2-D response is their outer product.
        var weights = Enumerable.Range(-4, 9).Select(k => Math.Exp(-k * k / 2.0)).ToArray();
        var sum = weights.Sum();
        using var blurred = ImageFilters.GaussianBlur(impulse, 1, BorderMode.Nearest);
        Assert.Equal(weights[4] * weights[4] / (sum * sum), blurred[0, 0, 7, 7].item<float>(), 6);
        Assert.Equal(weights[5] * weights[6] / (sum * sum), blurred[0, 0, 8, 9].item<float>(), 6);
        // Motion blur at 0°: output (y, x) = Σ_i w_i·input(y, x + i), w_i ∝ exp(−i²/2σ²), i = 0 … 2⌈r⌉.
        using var moved = ImageFilters.MotionBlur(impulse, 2, 1, [0.0]);
        var taps = Enumerable.Range(0, 5).Select(i => Math.Exp(-i * i / 2.0)).ToArray();
        for (var i = 0; i < 5; i++) Assert.Equal(taps[i] / taps.Sum(), moved[0, 0, 7, 7 - i].item<float>(), 6);
        Assert.Equal(0, moved[0, 0, 7, 8].item<float>());
        Assert.Equal(0, moved[0, 0, 6, 7].item<float>());
        // At 90° the trail runs along the rows.
        using var down = ImageFilters.MotionBlur(impulse, 2, 1, [90.0]);
        Assert.Equal(taps[2] / taps.Sum(), down[0, 0, 5, 7].item<float>(), 6);
    }

    [Fact]
    public void DefocusKernelIsTheBlurredDisk()
    {
        // Radius 0.3: the disk is the centre alone, so the kernel is OpenCV's 3 × 3 Gaussian of σ 0.4 there.
        var kernel = ImageCorruptions.DiskKernel(0.3, 0.4);
        var side = Math.Exp(-1 / (2 * 0.4 * 0.4));
        var g = new[] { side, 1, side }.Select(v => v / (1 + 2 * side)).ToArray();
        Assert.Equal(g[1] * g[1], kernel[8, 8], 12);
        Assert.Equal(g[0] * g[1], kernel[8, 9], 12);
        Assert.Equal(0, kernel[8, 10]);
        Assert.Equal(1, kernel.Cast<double>().Sum(), 12);
        // Radius 1: the 5-point cross, each 1/5 before the blur.
        Assert.Equal(1, ImageCorruptions.DiskKernel(1, 0.2).Cast<double>().Sum(), 12);
    }

    [Fact]
    public void JpegIsARealRoundTripAtTheDocumentedQuality()
    {
        using var images = ColourImages(4);
        using var high = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.Jpeg, 1, images);
        using var low = Corrupt(CorruptionSet.Cifar10C, CorruptionKind.Jpeg, 5, images);
        using var direct = JpegRoundTrip.Apply(images, 40);
        Assert.True(TensorAssert.Same(low, direct));
        // 8-bit output, and quality 40 loses more than quality 80.
        using var scaled = low * 255;
        Assert.True((scaled - scaled.round()).abs().max().item<float>() < 1e-3);
        Assert.True(MeanAbsChange(low, images) > MeanAbsChange(high, images));
        // A flat colour survives almost exactly.
        using var flat = torch.full(1, 3, 16, 16, 0.4f);
        using var flatBack = JpegRoundTrip.Apply(flat, 40);
        Assert.True((flatBack - flat).abs().max().item<float>() <= 2.5f / 255);
    }

    [Fact]
    public void PlasmaFractalSpansTheUnitInterval()
    {
        using var generator = new Generator(3);
        var map = ImageFilters.PlasmaFractal(32, 2, generator);
        Assert.Equal(0, map.Cast<double>().Min(), 12);
        Assert.Equal(1, map.Cast<double>().Max(), 12);
        Assert.Throws<ArgumentException>(() => ImageFilters.PlasmaFractal(24, 2, generator));
    }

    [Fact]
    public void AffineFromThreePointsRecoversTheMap()
    {
        double[][] source = [[26, 26], [26, 6], [6, 6]];
        double[] truth = [1.1, -0.2, 3, 0.1, 0.9, -2];
        var target = source.Select(p => new[] { truth[0] * p[0] + truth[1] * p[1] + truth[2], truth[3] * p[0] + truth[4] * p[1] + truth[5] }).ToArray();
        var found = ImageCorruptions.AffineFromPoints(source, target);
        for (var i = 0; i < 6; i++) Assert.Equal(truth[i], found[i], 9);
    }

    [Fact]
    public void MnistCAffineAndPixelCorruptionsMoveTheDocumentedAmounts()
    {
        using var digits = DigitImages(8);
        // Translate: integer shifts of 3 pixels per axis, so every interior pixel is some input pixel 3 away (bilinear is exact).
        using var moved = Corrupt(CorruptionSet.MnistC, CorruptionKind.Translate, 1, digits);
        for (var i = 0; i < 8; i++)
        {
            var found = false;
            foreach (var dy in new[] { -3, 3 })
                foreach (var dx in new[] { -3, 3 })
                {
                    using var expected = digits[i, 0, (3 + dy)..(25 + dy), (3 + dx)..(25 + dx)];
                    using var got = moved[i, 0, 3..25, 3..25];
                    found |= (expected - got).abs().max().item<float>() < 1e-5;
                }
            Assert.True(found, $"image {i} is not a 3-pixel shift");
        }
        // Brightness: + 0.5, clipped (grey HSV round trip).
        using var bright = Corrupt(CorruptionSet.MnistC, CorruptionKind.Brightness, 1, digits);
        using var brightExpected = (digits + 0.5).clamp(0, 1);
        Assert.True((bright - brightExpected).abs().max().item<float>() < 1e-6);
        // Stripe: columns 0-6 and 21-27 inverted, the middle untouched.
        using var stripe = Corrupt(CorruptionSet.MnistC, CorruptionKind.Stripe, 1, digits);
        Assert.True((stripe[.., .., .., 0..7] - (1 - digits[.., .., .., 0..7])).abs().max().item<float>() < 1e-6);
        Assert.True(TensorAssert.Same(stripe[.., .., .., 7..21].contiguous(), digits[.., .., .., 7..21].contiguous()));
        // Scale to 70 % about the centre: the ring of radius 7 moves to radius 4.9, so the centre column profile shrinks.
        using var one = DigitImages(1);
        using var small = Corrupt(CorruptionSet.MnistC, CorruptionKind.Scale, 1, one);
        Assert.True(small.sum().item<float>() < 0.6 * one.sum().item<float>());
        // The dotted line lights only columns 2-3, 6-7, …: column pairs 0-1, 4-5, … and column 27 stay as they were.
        using var blank = torch.zeros(4, 1, 28, 28);
        using var dotted = Corrupt(CorruptionSet.MnistC, CorruptionKind.DottedLine, 1, blank);
        for (var c = 0; c < 28; c++)
            if ((c / 2) % 2 == 0 || c == 27) Assert.Equal(0, dotted[.., .., .., c].max().item<float>());
        Assert.True(dotted.max().item<float>() == 1);
    }

    [Fact]
    public void LeftOutAndMisfitCorruptionsAreErrors()
    {
        using var colour = ColourImages(1);
        using var generator = new Generator(0);
        var frost = Assert.Throws<ArgumentException>(() => ImageCorruptions.Apply(CorruptionSet.Cifar10C, CorruptionKind.Frost, 1, colour, generator));
        Assert.Contains("frost photographs", frost.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCorruptions.Apply(CorruptionSet.Cifar10C, CorruptionKind.Fog, 6, colour, generator));
        Assert.Throws<ArgumentException>(() => ImageCorruptions.Apply(CorruptionSet.MnistC, CorruptionKind.Fog, 1, colour, generator));
        Assert.Throws<ArgumentException>(() => ImageCorruptions.Apply(CorruptionSet.Cifar10C, CorruptionKind.Shear, 1, colour, generator));
        Assert.Equal(18, CorruptionSets.Built(CorruptionSet.Cifar10C).Count);    // all but frost
        Assert.Equal(15, CorruptionSets.Built(CorruptionSet.MnistC).Count);     // all of MNIST-C
    }
}
