using SkiaSharp;

namespace StatFormer.Vision.Data;

/// <summary>One decoded image: uint8 pixels [Channels, Height, Width], channel-major.</summary>
internal sealed record DecodedImage(byte[] Pixels, int Channels, int Height, int Width);

/// <summary>
/// Decodes PNG, JPEG and BMP files with SkiaSharp's codec (the SkiaSharp and native Skia build that ScottPlot already
/// brings, so no second image library or native binary). TorchVision for .NET's own <c>torchvision.io</c> has no decoder
/// of its own: its default imager throws until a SkiaSharp-based one is installed process-wide, so going to SkiaSharp
/// directly is the same decoder with the error handling in our hands.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>The decoder's name and version, part of every cache key: a new decoder may decode differently.</summary>
    public static string Identity { get; } = $"SkiaSharp {typeof(SKCodec).Assembly.GetName().Version}";

    /// <param name="channels">1 (grey, BT.601 luma), 3 (RGB) or null: 1 if the file is greyscale, else 3. Alpha is dropped.</param>
    /// <exception cref="InvalidDataException">The file is not a decodable image, naming it and Skia's reason.</exception>
    public static DecodedImage Decode(string path, int? channels)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new IOException($"{path}: cannot read the image file ({e.Message})", e);
        }
        using var stream = new MemoryStream(bytes, writable: false);
        using var codec = SKCodec.Create(stream, out var created);
        if (codec is null)
            throw new InvalidDataException($"{path}: not a decodable image ({Reason(created)})");
        var info = codec.Info;
        var outChannels = channels ?? (info.ColorType == SKColorType.Gray8 ? 1 : 3);
        // Unpremultiplied RGBA: the colour values as stored, whatever the alpha.
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var result = codec.GetPixels(target, out var rgba);
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"{path}: not a decodable image ({Reason(result)})");

        var plane = info.Width * info.Height;
        var pixels = new byte[outChannels * plane];
        if (outChannels == 3)
        {
            for (var p = 0; p < plane; p++)
            {
                pixels[p] = rgba[4 * p];
                pixels[plane + p] = rgba[4 * p + 1];
                pixels[2 * plane + p] = rgba[4 * p + 2];
            }
        }
        else
        {
            // Integer BT.601 weights summing to 1000, so a grey pixel (R = G = B) keeps its exact value.
            for (var p = 0; p < plane; p++)
                pixels[p] = (byte)((299 * rgba[4 * p] + 587 * rgba[4 * p + 1] + 114 * rgba[4 * p + 2] + 500) / 1000);
        }
        return new DecodedImage(pixels, outChannels, info.Height, info.Width);
    }

    private static string Reason(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file is truncated",
        SKCodecResult.ErrorInInput => "the file is corrupt",
        SKCodecResult.Unimplemented => "an unsupported image format",
        _ => $"Skia: {result}",
    };
}
