using System.Buffers.Binary;
using System.IO.Compression;

namespace StatFormer.Data;

/// <summary>
/// Reads IDX files (the MNIST format): a big-endian int32 magic (0x00000803 for images, 0x00000801 for labels),
/// big-endian int32 dimensions, then one unsigned byte per pixel or label. Files may be gzip-compressed
/// (detected by the 1f 8b magic, not the file name). Every problem is an <see cref="InvalidDataException"/> (a missing file a <see cref="FileNotFoundException"/>)
/// naming the file and what was expected versus found.
/// </summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Reads an IDX3 unsigned-byte image file.</summary>
    public static IdxImages ReadImages(string path)
    {
        var bytes = ReadContent(path);
        const int header = 16;
        CheckMagic(path, bytes, ImagesMagic, "images");
        if (bytes.Length < header)
            throw new InvalidDataException($"{path}: truncated IDX images header: expected {header} bytes, found {bytes.Length}.");
        var count = ReadDimension(path, bytes, 4, "image count");
        var rows = ReadDimension(path, bytes, 8, "rows");
        var cols = ReadDimension(path, bytes, 12, "columns");
        CheckLength(path, bytes.Length, header, (long)count * rows * cols, $"{count}×{rows}×{cols} pixels");
        return new IdxImages(bytes[header..], count, rows, cols);
    }

    /// <summary>Reads an IDX1 unsigned-byte label file.</summary>
    public static byte[] ReadLabels(string path)
    {
        var bytes = ReadContent(path);
        const int header = 8;
        CheckMagic(path, bytes, LabelsMagic, "labels");
        if (bytes.Length < header)
            throw new InvalidDataException($"{path}: truncated IDX labels header: expected {header} bytes, found {bytes.Length}.");
        var count = ReadDimension(path, bytes, 4, "label count");
        CheckLength(path, bytes.Length, header, count, $"{count} labels");
        return bytes[header..];
    }

    /// <summary>Reads an image file and its label file and checks that they hold the same number of items.</summary>
    public static (IdxImages Images, byte[] Labels) ReadPair(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (images.Count != labels.Length)
            throw new InvalidDataException(
                $"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Length} labels; they must match.");
        return (images, labels);
    }

    private static byte[] ReadContent(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: {path}", path);
        var raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            return plain.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message}).", e);
        }
    }

    private static void CheckMagic(string path, byte[] bytes, int expected, string what)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"{path}: truncated: expected at least 4 bytes of IDX magic, found {bytes.Length}.");
        var magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != expected)
            throw new InvalidDataException($"{path}: not an IDX {what} file: expected magic 0x{expected:X8}, found 0x{magic:X8}.");
    }

    private static int ReadDimension(string path, byte[] bytes, int offset, string what)
    {
        var value = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
        if (value <= 0)
            throw new InvalidDataException($"{path}: IDX {what} must be positive, found {value}.");
        return value;
    }

    private static void CheckLength(string path, long actual, int header, long payload, string what)
    {
        var expected = header + payload;
        if (actual < expected)
            throw new InvalidDataException(
                $"{path}: truncated: expected {expected} bytes ({header}-byte header + {what}), found {actual}.");
        if (actual > expected)
            throw new InvalidDataException(
                $"{path}: {actual - expected} trailing bytes: expected {expected} bytes ({header}-byte header + {what}), found {actual}.");
    }
}
