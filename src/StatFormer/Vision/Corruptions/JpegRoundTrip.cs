using System.Runtime.InteropServices;
using SkiaSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// A real JPEG encode and decode of each image at a given quality, with SkiaSharp (libjpeg-turbo underneath; the
/// library that decodes the image folders): 8-bit pixels in, 8-bit pixels out, as the benchmarks' PIL round trip.
/// </summary>
public static class JpegRoundTrip
{
    /// <param name="images">float [N,C,H,W] in [0, 1], C = 1 (encoded as greyscale) or 3 (RGB).</param>
    /// <param name="quality">1 … 100.</param>
    public static Tensor Apply(Tensor images, int quality)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "JPEG quality is 1 … 100");
        var (n, c, h, w) = ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        if (c is not (1 or 3)) throw new ArgumentException($"JPEG needs 1 or 3 channels (got {c})", nameof(images));
        byte[] pixels;
        using (var bytes = images.clamp(0, 1).mul(255).round().to_type(ScalarType.Byte).contiguous())
            pixels = bytes.data<byte>().ToArray();
        var plane = h * w;
        var result = new byte[pixels.Length];
        var colorType = c == 3 ? SKColorType.Rgba8888 : SKColorType.Gray8;
        var bytesPerPixel = c == 3 ? 4 : 1;
        var buffer = new byte[plane * bytesPerPixel];
        for (var image = 0; image < n; image++)
        {
            var offset = image * c * plane;
            for (var p = 0; p < plane; p++)
            {
                if (c == 3)
                {
                    buffer[4 * p] = pixels[offset + p];
                    buffer[4 * p + 1] = pixels[offset + plane + p];
                    buffer[4 * p + 2] = pixels[offset + 2 * plane + p];
                    buffer[4 * p + 3] = 255;
                }
                else
                {
                    buffer[p] = pixels[offset + p];
                }
            }
            var info = new SKImageInfo(w, h, colorType, SKAlphaType.Opaque);
            using var bitmap = new SKBitmap(info);
            Marshal.Copy(buffer, 0, bitmap.GetPixels(), buffer.Length);
            using var encoded = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality)
                ?? throw new InvalidOperationException("SkiaSharp could not encode a JPEG");
            using var codec = SKCodec.Create(encoded) ?? throw new InvalidOperationException("SkiaSharp could not read back its own JPEG");
            var decoded = codec.GetPixels(info, out var back);
            if (decoded != SKCodecResult.Success) throw new InvalidOperationException($"SkiaSharp could not decode its own JPEG ({decoded})");
            for (var p = 0; p < plane; p++)
            {
                if (c == 3)
                {
                    result[offset + p] = back[4 * p];
                    result[offset + plane + p] = back[4 * p + 1];
                    result[offset + 2 * plane + p] = back[4 * p + 2];
                }
                else
                {
                    result[offset + p] = back[p];
                }
            }
        }
        using var decodedBytes = TorchSharp.torch.tensor(result, dtype: ScalarType.Byte).reshape(n, c, h, w);
        return decodedBytes.to_type(ScalarType.Float32).div(255).to_type(images.dtype);
    }
}
