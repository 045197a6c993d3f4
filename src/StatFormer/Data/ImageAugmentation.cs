using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Data;

/// <summary>
/// Batched image augmentations of the ColorMNIST recipe (spec §4.1): train views are RandomResizedCrop(32, bicubic)
/// + RandomHorizontalFlip, the evaluation transform is Resize(32). Nothing changes colour, so z is preserved.
/// <para>
/// Crop-and-resize is computed as out = R·X·Cᵀ per image, with R and C the 1-D interpolation matrices of the image's
/// crop box (rows and columns). This is exactly torchvision's crop followed by a resize (taps are clamped to the crop's
/// border; half-pixel centres, i.e. align_corners = false; libtorch's bicubic kernel with A = −0.75), batched as two
/// matmuls. TorchSharp's grid_sample has no bicubic mode, hence matrices instead of affine_grid + grid_sample.
/// Bicubic output is clamped to [0,1], as an 8-bit image would be. No antialiasing (28 → 32 only upsamples).
/// </para>
/// Randomness comes from the <c>generator</c> arguments when given, otherwise from the global torch RNG.
/// </summary>
public static class ImageAugmentation
{
    /// <summary>An integer crop box in pixels: rows [Top, Top+Height), columns [Left, Left+Width).</summary>
    internal readonly record struct CropBox(int Top, int Left, int Height, int Width);

    private const int Attempts = 10;

    /// <summary>
    /// torchvision's RandomResizedCrop, per image: a box of area fraction U(minScale, maxScale) and aspect ratio
    /// log-uniform in [minRatio, maxRatio] (10 attempts, then a central crop), resized to outSize×outSize.
    /// </summary>
    /// <param name="images">float [b,C,H,W] in [0,1].</param>
    /// <param name="mode">Bicubic (the recipe) or Bilinear.</param>
    public static Tensor RandomResizedCrop(
        Tensor images, int outSize = 32, double minScale = 0.08, double maxScale = 1.0,
        double minRatio = 3.0 / 4.0, double maxRatio = 4.0 / 3.0,
        InterpolationMode mode = InterpolationMode.Bicubic, Generator? generator = null)
    {
        CheckImages(images);
        CheckMode(mode);
        if (outSize < 1) throw new ArgumentException($"outSize must be positive, got {outSize}", nameof(outSize));
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1))
            throw new ArgumentException($"need 0 < minScale <= maxScale <= 1, got ({minScale}, {maxScale})", nameof(minScale));
        if (!(minRatio > 0 && minRatio <= maxRatio))
            throw new ArgumentException($"need 0 < minRatio <= maxRatio, got ({minRatio}, {maxRatio})", nameof(minRatio));

        var (b, h, w) = ((int)images.shape[0], (int)images.shape[2], (int)images.shape[3]);
        double[] uniforms;
        using (var draws = torch.rand([b, Attempts, 4], dtype: ScalarType.Float64, device: CPU, generator: generator))
            uniforms = draws.data<double>().ToArray();
        var boxes = new CropBox[b];
        for (var k = 0; k < b; k++)
            boxes[k] = SampleBox(h, w, minScale, maxScale, minRatio, maxRatio, uniforms.AsSpan(k * Attempts * 4, Attempts * 4));
        return CropAndResize(images, boxes, outSize, outSize, mode);
    }

    /// <summary>Flips each image left–right independently with probability <paramref name="p"/>.</summary>
    public static Tensor HorizontalFlip(Tensor images, double p = 0.5, Generator? generator = null)
    {
        CheckImages(images);
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"p must be in [0,1], got {p}", nameof(p));
        using var scope = torch.NewDisposeScope();
        // An explicit Scalar, disposed at the end of the scope: the one `tensor < p` creates implicitly is left to the
        // GC, whose finalizer can free it during the native call ("Unknown scalar type"; dotnet/TorchSharp#1434).
        using var threshold = p.ToScalar();
        var flip = torch.rand(images.shape[0], dtype: ScalarType.Float64, device: CPU, generator: generator).lt(threshold).view(-1, 1, 1, 1).to(images.device);
        return torch.where(flip, images.flip(3), images).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The deterministic evaluation transform: torchvision Resize(size) — the smaller edge becomes
    /// <paramref name="size"/>, the aspect ratio is kept (square images become size×size). Bilinear by default, as
    /// torchvision's Resize.
    /// </summary>
    public static Tensor Resize(Tensor images, int size = 32, InterpolationMode mode = InterpolationMode.Bilinear)
    {
        CheckImages(images);
        CheckMode(mode);
        if (size < 1) throw new ArgumentException($"size must be positive, got {size}", nameof(size));
        var (h, w) = (images.shape[2], images.shape[3]);
        (long outH, long outW) = h <= w ? ((long)size, size * w / h) : (size * h / w, (long)size);
        using var scope = torch.NewDisposeScope();
        var resized = nn.functional.interpolate(images, [outH, outW], mode: mode, align_corners: false);
        if (mode == InterpolationMode.Bicubic) resized = resized.clamp(0, 1);
        return resized.MoveToOuterDisposeScope();
    }

    /// <summary>Two independent train views: RandomResizedCrop(outSize, bicubic) then HorizontalFlip(0.5), each.</summary>
    public static (Tensor View1, Tensor View2) TwoViews(Tensor images, int outSize = 32, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        var view1 = HorizontalFlip(RandomResizedCrop(images, outSize, generator: generator), generator: generator);
        var view2 = HorizontalFlip(RandomResizedCrop(images, outSize, generator: generator), generator: generator);
        return (view1.MoveToOuterDisposeScope(), view2.MoveToOuterDisposeScope());
    }

    /// <summary>torchvision's get_params, driven by 4 uniforms per attempt (scale, log-ratio, top, left).</summary>
    internal static CropBox SampleBox(int h, int w, double minScale, double maxScale, double minRatio, double maxRatio, ReadOnlySpan<double> uniforms)
    {
        var area = (double)h * w;
        var (logMin, logMax) = (Math.Log(minRatio), Math.Log(maxRatio));
        for (var attempt = 0; attempt < uniforms.Length / 4; attempt++)
        {
            var u = uniforms.Slice(4 * attempt, 4);
            var targetArea = area * (minScale + (maxScale - minScale) * u[0]);
            var aspect = Math.Exp(logMin + (logMax - logMin) * u[1]);
            // Math.Round rounds half to even, like Python's round().
            var cropW = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            var cropH = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (cropW > 0 && cropW <= w && cropH > 0 && cropH <= h)
            {
                var top = Math.Min((int)(u[2] * (h - cropH + 1)), h - cropH);
                var left = Math.Min((int)(u[3] * (w - cropW + 1)), w - cropW);
                return new CropBox(top, left, cropH, cropW);
            }
        }
        // Fallback: the largest central crop whose ratio is within range.
        var inRatio = (double)w / h;
        var (fallbackH, fallbackW) = inRatio < minRatio ? ((int)Math.Round(w / minRatio), w)
            : inRatio > maxRatio ? (h, (int)Math.Round(h * maxRatio))
            : (h, w);
        return new CropBox((h - fallbackH) / 2, (w - fallbackW) / 2, fallbackH, fallbackW);
    }

    /// <summary>Crops each image to its box and resizes it to outH×outW: R_k · X_k · C_kᵀ for every channel.</summary>
    internal static Tensor CropAndResize(Tensor images, IReadOnlyList<CropBox> boxes, int outH, int outW, InterpolationMode mode)
    {
        var (b, h, w) = ((int)images.shape[0], (int)images.shape[2], (int)images.shape[3]);
        if (boxes.Count != b) throw new ArgumentException($"{boxes.Count} boxes for {b} images", nameof(boxes));
        var rows = new float[b * outH * h];
        var cols = new float[b * outW * w];
        for (var k = 0; k < b; k++)
        {
            var box = boxes[k];
            if (box.Top < 0 || box.Left < 0 || box.Height < 1 || box.Width < 1 || box.Top + box.Height > h || box.Left + box.Width > w)
                throw new ArgumentException($"crop box {box} lies outside the {h}×{w} image", nameof(boxes));
            FillAxisWeights(rows.AsSpan(k * outH * h, outH * h), h, box.Top, box.Height, outH, mode);
            FillAxisWeights(cols.AsSpan(k * outW * w, outW * w), w, box.Left, box.Width, outW, mode);
        }
        using var scope = torch.NewDisposeScope();
        var r = HostTensor.From(rows, [b, 1, outH, h], images.device).to_type(images.dtype);
        var c = HostTensor.From(cols, [b, 1, outW, w], images.device).to_type(images.dtype);
        var resized = r.matmul(images).matmul(c.transpose(2, 3));
        if (mode == InterpolationMode.Bicubic) resized = resized.clamp(0, 1);
        return resized.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Interpolation weights [outSize, inSize] that resize the segment [offset, offset+length) of an axis to outSize
    /// samples, with libtorch's source-index rule (half-pixel centres; bilinear clamps negative sources to 0) and taps
    /// clamped to the segment.
    /// </summary>
    internal static void FillAxisWeights(Span<float> weights, int inSize, int offset, int length, int outSize, InterpolationMode mode)
    {
        weights.Clear();
        var scale = (double)length / outSize;
        for (var d = 0; d < outSize; d++)
        {
            var row = weights.Slice(d * inSize, inSize);
            var source = scale * (d + 0.5) - 0.5;
            if (mode == InterpolationMode.Bilinear)
            {
                source = Math.Max(source, 0);
                var i0 = (int)source;
                var lambda = source - i0;
                var i1 = i0 < length - 1 ? i0 + 1 : i0;
                row[offset + Math.Min(i0, length - 1)] += (float)(1 - lambda);
                row[offset + i1] += (float)lambda;
            }
            else
            {
                var i = (int)Math.Floor(source);
                var t = source - i;
                ReadOnlySpan<double> taps = [CubicFar(t + 1), CubicNear(t), CubicNear(1 - t), CubicFar(2 - t)];
                for (var tap = 0; tap < 4; tap++)
                    row[offset + Math.Clamp(i - 1 + tap, 0, length - 1)] += (float)taps[tap];
            }
        }
    }

    // Keys' cubic convolution kernel with A = −0.75 (libtorch's bicubic), for |x| ≤ 1 and 1 < |x| < 2.
    private const double CubicA = -0.75;
    private static double CubicNear(double x) => ((CubicA + 2) * x - (CubicA + 3)) * x * x + 1;
    private static double CubicFar(double x) => ((CubicA * x - 5 * CubicA) * x + 8 * CubicA) * x - 4 * CubicA;

    private static void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point() || images.shape[0] < 1)
            throw new ArgumentException($"images must be floating [b,C,H,W] with b ≥ 1, got {images.dtype} [{string.Join(",", images.shape)}]", nameof(images));
    }

    private static void CheckMode(InterpolationMode mode)
    {
        if (mode is not (InterpolationMode.Bilinear or InterpolationMode.Bicubic))
            throw new ArgumentException($"mode must be Bilinear or Bicubic, got {mode}", nameof(mode));
    }
}
