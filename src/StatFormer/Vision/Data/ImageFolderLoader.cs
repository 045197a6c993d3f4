using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace StatFormer.Vision.Data;

/// <summary>
/// Loads an image folder: <c>root/train/&lt;class&gt;/*</c> and <c>root/test/&lt;class&gt;/*</c>, or <c>root/&lt;class&gt;/*</c>
/// split per class by <see cref="VisionDataOptions.TestFraction"/> under <see cref="VisionDataOptions.SplitSeed"/>.
/// Images are the files directly inside each class folder whose extension is .png, .jpg, .jpeg or .bmp (any case);
/// other files and deeper folders are ignored, and folders starting with '.' are not classes. Classes are the folder
/// names in ordinal order; files are taken in ordinal order of their names, so the result never depends on the file
/// system's listing order or on the decoding threads.
/// <para>
/// The folder is decoded once (<see cref="ImageDecoder"/>) and kept in <see cref="ImageCache"/>; a later load whose
/// listing (relative paths, sizes, modification times) is unchanged reads the cache instead.
/// </para>
/// </summary>
public static class ImageFolderLoader
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    public static ImageSplits Load(string root, VisionDataOptions options, IProgress<ImageLoadProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(options);
        root = CheckedRoot(root);
        var decoded = DecodeCached(root, ListParts(root), options.Channels, options.ResolvedCacheDir(), progress, ct);
        return ToSplits(root, decoded, options);
    }

    /// <summary>
    /// Every image of one <c>folder/&lt;class&gt;/*</c> as one dataset, not split (e.g. CIFAR-10's <c>test/</c> alone);
    /// decoded and cached like <see cref="Load"/>.
    /// </summary>
    /// <param name="channels">As <see cref="VisionDataOptions.Channels"/>.</param>
    /// <param name="cacheDir">As <see cref="VisionDataOptions.CacheDir"/>; null: the default.</param>
    public static ImageDataset LoadFolder(string folder, int? channels = null, string? cacheDir = null, IProgress<ImageLoadProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        folder = CheckedRoot(folder);
        var resolvedCache = new VisionDataOptions { CacheDir = cacheDir }.ResolvedCacheDir();
        var decoded = DecodeCached(folder, [ListPart("all", folder)], channels, resolvedCache, progress, ct);
        return ToDataset(decoded[0], $"folder:{folder}");
    }

    private static string CheckedRoot(string root)
    {
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"image folder not found: {root}");
        return root;
    }

    private static IReadOnlyList<DecodedPart> DecodeCached(string root, IReadOnlyList<FolderPart> parts, int? channels, string cacheDir,
        IProgress<ImageLoadProgress>? progress, CancellationToken ct)
    {
        if (IsWithin(cacheDir, root))
            throw new ArgumentException($"the cache folder {cacheDir} lies inside the image folder {root}; the dataset folder is never written to",
                nameof(VisionDataOptions.CacheDir));
        var key = ImageCache.Key(root, parts, channels);
        var cacheFile = Path.Combine(cacheDir, $"{CacheName(root)}-{Convert.ToHexStringLower(key)[..16]}.sfimg");
        var decoded = ImageCache.TryRead(cacheFile, key);
        var total = parts.Sum(p => p.Files.Count);
        if (decoded is not null)
        {
            progress?.Report(new ImageLoadProgress(ImageLoadStage.CacheHit, total, total, cacheFile));
            return decoded;
        }
        decoded = Decode(parts, channels, progress, ct);
        try
        {
            ImageCache.Write(cacheFile, key, decoded);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write the image cache {cacheFile} ({e.Message}); choose a writable folder with CacheDir " +
                $"or ${VisionDataOptions.CacheEnvironmentVariable}", e);
        }
        progress?.Report(new ImageLoadProgress(ImageLoadStage.CacheWritten, total, total, cacheFile));
        return decoded;
    }

    /// <summary>The listing of one part (train, test, or the whole root): class names and, per file, its class.</summary>
    internal sealed record FolderPart(string Name, string Folder, IReadOnlyList<string> ClassNames, IReadOnlyList<string> Files, IReadOnlyList<int> Labels);

    /// <summary>Decoded pixels of one part, uint8 [Count, Channels, Height, Width] flattened.</summary>
    internal sealed record DecodedPart(string Name, IReadOnlyList<string> ClassNames, byte[] Pixels, int[] Labels, int Count, int Channels, int Height, int Width);

    private static IReadOnlyList<FolderPart> ListParts(string root)
    {
        var trainDir = Path.Combine(root, "train");
        var testDir = Path.Combine(root, "test");
        var (hasTrain, hasTest) = (Directory.Exists(trainDir), Directory.Exists(testDir));
        if (hasTrain != hasTest)
            throw new InvalidDataException($"{root} has {(hasTrain ? "train/" : "test/")} but no {(hasTrain ? "test/" : "train/")}; give both, or neither for a seeded split");
        if (!hasTrain) return [ListPart("all", root)];

        var train = ListPart("train", trainDir);
        var test = ListPart("test", testDir);
        if (!train.ClassNames.SequenceEqual(test.ClassNames))
        {
            var onlyTrain = train.ClassNames.Except(test.ClassNames).ToArray();
            var onlyTest = test.ClassNames.Except(train.ClassNames).ToArray();
            throw new InvalidDataException($"{root}: train/ and test/ must hold the same classes; " +
                (onlyTrain.Length > 0 ? $"only in train/: {string.Join(", ", onlyTrain)}" : "") +
                (onlyTrain.Length > 0 && onlyTest.Length > 0 ? "; " : "") +
                (onlyTest.Length > 0 ? $"only in test/: {string.Join(", ", onlyTest)}" : ""));
        }
        return [train, test];
    }

    private static FolderPart ListPart(string name, string folder)
    {
        var classDirs = Directory.GetDirectories(folder)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .ToArray();
        if (classDirs.Length == 0)
            throw new InvalidDataException($"{folder} holds no class folders (expected {folder}/<class>/<image>.png|jpg|jpeg|bmp)");
        var files = new List<string>();
        var labels = new List<int>();
        for (var c = 0; c < classDirs.Length; c++)
        {
            var images = Directory.GetFiles(classDirs[c])
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
                .ToArray();
            if (images.Length == 0)
                throw new InvalidDataException($"class folder {classDirs[c]} holds no .png, .jpg, .jpeg or .bmp files");
            files.AddRange(images);
            labels.AddRange(Enumerable.Repeat(c, images.Length));
        }
        return new FolderPart(name, folder, classDirs.Select(Path.GetFileName).ToArray()!, files, labels);
    }

    private static IReadOnlyList<DecodedPart> Decode(IReadOnlyList<FolderPart> parts, int? channels, IProgress<ImageLoadProgress>? progress, CancellationToken ct)
    {
        var all = parts.SelectMany(p => p.Files).ToArray();
        // The first file in sorted order fixes the size (and, unless given, the channel count) for every other file.
        var first = ImageDecoder.Decode(all[0], channels);
        var (c, h, w) = (first.Channels, first.Height, first.Width);
        var imageBytes = (long)c * h * w;
        var result = new List<DecodedPart>();
        long done = 0;
        var reportEvery = Math.Max(1, all.Length / 100);
        progress?.Report(new ImageLoadProgress(ImageLoadStage.Decoding, 0, all.Length));
        foreach (var part in parts)
        {
            if (part.Files.Count * imageBytes > Array.MaxLength)
                throw new InvalidDataException($"{part.Folder}: {part.Files.Count} images of {c}×{h}×{w} exceed the {Array.MaxLength:N0} bytes one dataset can hold");
            var pixels = new byte[part.Files.Count * imageBytes];
            var errors = new Exception?[part.Files.Count];
            Parallel.For(0, part.Files.Count, new ParallelOptions { CancellationToken = ct }, i =>
            {
                try
                {
                    var image = ReferenceEquals(part, parts[0]) && i == 0 ? first : ImageDecoder.Decode(part.Files[i], c);
                    if (image.Height != h || image.Width != w)
                        throw new InvalidDataException(
                            $"{part.Files[i]}: image is {image.Width}×{image.Height} but {all[0]} is {w}×{h}; every image must have the same size");
                    image.Pixels.CopyTo(pixels, i * imageBytes);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    errors[i] = e;
                }
                var n = Interlocked.Increment(ref done);
                if (n % reportEvery == 0) progress?.Report(new ImageLoadProgress(ImageLoadStage.Decoding, n, all.Length));
            });
            // The first failure in sorted order, so the message is the same however the threads ran.
            var error = errors.FirstOrDefault(e => e is not null);
            if (error is not null) throw error is InvalidDataException ? new InvalidDataException(error.Message, error) : error;
            result.Add(new DecodedPart(part.Name, part.ClassNames, pixels, part.Labels.ToArray(), part.Files.Count, c, h, w));
        }
        progress?.Report(new ImageLoadProgress(ImageLoadStage.Decoding, all.Length, all.Length));
        return result;
    }

    private static ImageSplits ToSplits(string root, IReadOnlyList<DecodedPart> parts, VisionDataOptions options)
    {
        var source = $"folder:{root}";
        if (parts.Count == 2) return new ImageSplits(ToDataset(parts[0], source), ToDataset(parts[1], source));

        var whole = parts[0];
        var (trainIndices, testIndices) = StratifiedSampling.Split(whole.Labels.Select(l => (long)l).ToArray(), whole.ClassNames, options.TestFraction, options.SplitSeed);
        using var all = ToDataset(whole, source);
        using var train = torch.tensor(trainIndices);
        using var test = torch.tensor(testIndices);
        return new ImageSplits(all.Subset(train), all.Subset(test));
    }

    private static ImageDataset ToDataset(DecodedPart part, string source) =>
        new(torch.tensor(part.Pixels, new long[] { part.Count, part.Channels, part.Height, part.Width }),
            torch.tensor(part.Labels.Select(l => (long)l).ToArray()), part.ClassNames, source);

    /// <summary>A readable, file-name-safe stem for the cache file: the root's parent and own name ("cifar10-jpeg_test").</summary>
    private static string CacheName(string root)
    {
        var trimmed = root.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var parent = Path.GetFileName(Path.GetDirectoryName(trimmed) ?? "");
        var name = string.IsNullOrEmpty(parent) ? Path.GetFileName(trimmed) : $"{parent}_{Path.GetFileName(trimmed)}";
        var safe = new string(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
        return safe.Length == 0 ? "images" : safe;
    }

    private static bool IsWithin(string path, string folder)
    {
        var relative = Path.GetRelativePath(folder, Path.GetFullPath(path));
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }

    /// <summary>Relative paths with '/' separators, so a cache key does not depend on where the folder is or the OS.</summary>
    internal static string RelativeKeyPath(string root, string file) =>
        Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');

    internal static byte[] Sha256(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
