using System.Text;
using StatFormer.IO;

namespace StatFormer.Vision.Data;

/// <summary>
/// The decoded-image cache: one file per image folder, named by a key over what decoding depends on, written atomically.
/// <para>
/// The key hashes (SHA-256) the decoder's identity, the channel option and, for every image in sorted order, its path
/// relative to the root, byte length and modification time — not the file contents. Listing CIFAR-10's 60,000 files
/// costs a fraction of a second, reading and hashing their bytes several times that on every load; any ordinary edit,
/// copy or re-export changes the length or the time, and the stored key must also match inside the file. A file
/// replaced by different content with the same length and a forged time would go unnoticed; delete the cache then.
/// </para>
/// <para>
/// Layout (little-endian): magic "SFIMGC01", the 32-byte key, the part count; per part its name, class count and names,
/// image count, channels, height, width, one int32 label per image, then the uint8 pixels [N,C,H,W].
/// A cache file that is unreadable, truncated or of another key is a miss and is rewritten.
/// </para>
/// </summary>
internal static class ImageCache
{
    private static readonly byte[] Magic = "SFIMGC01"u8.ToArray();

    public static byte[] Key(string root, IReadOnlyList<ImageFolderLoader.FolderPart> parts, int? channels)
    {
        var text = new StringBuilder();
        text.Append("statformer-image-cache 1\n").Append(ImageDecoder.Identity).Append('\n')
            .Append("channels=").Append(channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto").Append('\n');
        foreach (var part in parts)
        {
            text.Append("part ").Append(part.Name).Append('\n');
            foreach (var file in part.Files)
            {
                var info = new FileInfo(file);
                text.Append(ImageFolderLoader.RelativeKeyPath(root, file)).Append('\t')
                    .Append(info.Length).Append('\t').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
            }
        }
        return ImageFolderLoader.Sha256(text.ToString());
    }

    public static IReadOnlyList<ImageFolderLoader.DecodedPart>? TryRead(string path, byte[] key)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) return null;
            if (!reader.ReadBytes(key.Length).AsSpan().SequenceEqual(key)) return null;
            var partCount = reader.ReadInt32();
            var parts = new List<ImageFolderLoader.DecodedPart>();
            for (var p = 0; p < partCount; p++)
            {
                var name = reader.ReadString();
                var classNames = Enumerable.Range(0, reader.ReadInt32()).Select(_ => reader.ReadString()).ToArray();
                var (count, channels, height, width) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
                var labels = Enumerable.Range(0, count).Select(_ => reader.ReadInt32()).ToArray();
                var length = checked((int)((long)count * channels * height * width));
                var pixels = reader.ReadBytes(length);
                if (pixels.Length != length || labels.Any(l => l < 0 || l >= classNames.Length)) return null;
                parts.Add(new ImageFolderLoader.DecodedPart(name, classNames, pixels, labels, count, channels, height, width));
            }
            return reader.BaseStream.Position == reader.BaseStream.Length ? parts : null;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or OverflowException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void Write(string path, byte[] key, IReadOnlyList<ImageFolderLoader.DecodedPart> parts) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(key);
            writer.Write(parts.Count);
            foreach (var part in parts)
            {
                writer.Write(part.Name);
                writer.Write(part.ClassNames.Count);
                foreach (var name in part.ClassNames) writer.Write(name);
                writer.Write(part.Count);
                writer.Write(part.Channels);
                writer.Write(part.Height);
                writer.Write(part.Width);
                foreach (var label in part.Labels) writer.Write(label);
                writer.Write(part.Pixels);
            }
            writer.Flush();
        });
}
