using SkiaSharp;
using StatFormer.Tests.Training;
using StatFormer.Vision.Data;
using TorchSharp;

namespace StatFormer.Tests.Vision.Data;

public sealed class ImageFolderLoaderTests : IDisposable
{
    private const int Width = 5, Height = 3;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Cache => _dir.File("cache");

    /// <summary>The test pattern: distinct per image (n), channel, row and column.</summary>
    private static byte Value(int n, int c, int y, int x) => (byte)((n * 37 + c * 70 + y * 11 + x * 3) % 256);

    /// <summary>A smooth pattern for the JPEG (lossy coding smears the sharp test pattern's wrap-arounds).</summary>
    private static byte Smooth(int c, int y, int x) => (byte)(60 + 40 * c + 6 * x + 4 * y);

    private static void WriteImage(string path, int n, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int width = Width, int height = Height)
    {
        Func<int, int, int, byte> value = format == SKEncodedImageFormat.Jpeg ? Smooth : (c, y, x) => Value(n, c, y, x);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor(value(0, y, x), value(1, y, x), value(2, y, x), 255));
        using var data = bitmap.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>root/{train,test}/{cat,dog}: train cat 0,1 (PNG), dog 2 (PNG), 3 (JPEG); test cat 4, dog 5 (PNG).</summary>
    private string TrainTestFolder()
    {
        var root = _dir.File("pets");
        WriteImage(Path.Combine(root, "train", "cat", "a.png"), 0);
        WriteImage(Path.Combine(root, "train", "cat", "b.png"), 1);
        WriteImage(Path.Combine(root, "train", "dog", "a.png"), 2);
        WriteImage(Path.Combine(root, "train", "dog", "b.jpg"), 3, SKEncodedImageFormat.Jpeg);
        File.WriteAllText(Path.Combine(root, "train", "dog", "notes.txt"), "not an image, ignored");
        WriteImage(Path.Combine(root, "test", "cat", "c.png"), 4);
        WriteImage(Path.Combine(root, "test", "dog", "d.PNG"), 5);
        return root;
    }

    private VisionDataOptions Options(string root) => new() { Source = VisionDataSource.ImageFolder, Path = root, CacheDir = Cache };

    private static byte[] Expected(int n) => Expected((c, y, x) => Value(n, c, y, x));

    private static byte[] Expected(Func<int, int, int, byte> value) =>
        Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(0, Height).SelectMany(y => Enumerable.Range(0, Width).Select(x => value(c, y, x)))).ToArray();

    private static byte[] ImageBytes(ImageDataset data, long i)
    {
        using var image = data.Pixels[i];
        return image.contiguous().data<byte>().ToArray();
    }

    [Fact]
    public void TrainAndTestFoldersLoadWithTheirLabelsAndPixels()
    {
        using var splits = VisionData.Load(Options(TrainTestFolder()));
        Assert.Equal(["cat", "dog"], splits.Train.ClassNames);
        Assert.Equal(["cat", "dog"], splits.Test.ClassNames);
        Assert.Equal(new long[] { 4, 3, Height, Width }, splits.Train.Pixels.shape);
        Assert.Equal(new long[] { 0, 0, 1, 1 }, splits.Train.Labels.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1 }, splits.Test.Labels.data<long>().ToArray());
        // PNG is lossless: exact pixels, in sorted file order.
        Assert.Equal(Expected(0), ImageBytes(splits.Train, 0));
        Assert.Equal(Expected(1), ImageBytes(splits.Train, 1));
        Assert.Equal(Expected(2), ImageBytes(splits.Train, 2));
        Assert.Equal(Expected(5), ImageBytes(splits.Test, 1));
        // JPEG at quality 100 is close, not exact (colour conversion and chroma rounding).
        var errors = ImageBytes(splits.Train, 3).Zip(Expected(Smooth), (a, b) => Math.Abs(a - b)).ToArray();
        Assert.True(errors.Max() <= 8, $"JPEG pixels differ from the written ones by up to {errors.Max()}");
        Assert.True(errors.Average() < 3, $"mean JPEG error {errors.Average()}");
    }

    [Fact]
    public void TheSecondLoadIsACacheHitAndAChangedFileInvalidatesIt()
    {
        var root = TrainTestFolder();
        var first = new ProgressRecorder();
        using (VisionData.Load(Options(root), first)) { }
        Assert.Contains(first.Reports, r => r.Stage == ImageLoadStage.Decoding && r.Done == 6 && r.Total == 6);
        var written = Assert.Single(first.Reports, r => r.Stage == ImageLoadStage.CacheWritten);
        Assert.True(File.Exists(written.CacheFile));
        Assert.StartsWith(Path.GetFullPath(Cache), written.CacheFile);

        var second = new ProgressRecorder();
        using (var splits = VisionData.Load(Options(root), second))
            Assert.Equal(Expected(2), ImageBytes(splits.Train, 2));
        Assert.Equal(ImageLoadStage.CacheHit, Assert.Single(second.Reports).Stage);

        // An edit: new content, a later modification time.
        var edited = Path.Combine(root, "train", "dog", "a.png");
        var before = File.GetLastWriteTimeUtc(edited);
        WriteImage(edited, 9);
        File.SetLastWriteTimeUtc(edited, before.AddSeconds(2));
        var third = new ProgressRecorder();
        using (var splits = VisionData.Load(Options(root), third))
            Assert.Equal(Expected(9), ImageBytes(splits.Train, 2));
        Assert.Contains(third.Reports, r => r.Stage == ImageLoadStage.Decoding);
        Assert.DoesNotContain(third.Reports, r => r.Stage == ImageLoadStage.CacheHit);
        // Nothing was written into the dataset folder.
        Assert.Empty(Directory.GetFiles(root, "*.sfimg", SearchOption.AllDirectories));
    }

    [Fact]
    public void ATruncatedCacheFileIsAMissAndIsRewritten()
    {
        var root = TrainTestFolder();
        var first = new ProgressRecorder();
        using (VisionData.Load(Options(root), first)) { }
        var cacheFile = first.Reports.Single(r => r.Stage == ImageLoadStage.CacheWritten).CacheFile!;
        var bytes = File.ReadAllBytes(cacheFile);
        File.WriteAllBytes(cacheFile, bytes[..(bytes.Length - 10)]);

        var second = new ProgressRecorder();
        using (var splits = VisionData.Load(Options(root), second))
            Assert.Equal(Expected(1), ImageBytes(splits.Train, 1));
        Assert.Contains(second.Reports, r => r.Stage == ImageLoadStage.Decoding);
        Assert.Equal(bytes, File.ReadAllBytes(cacheFile));
    }

    [Fact]
    public void ACancelledLoadStops()
    {
        var root = TrainTestFolder();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => VisionData.Load(Options(root), ct: cancelled.Token));
    }

    [Fact]
    public void ACorruptOrTruncatedFileIsReportedByName()
    {
        var root = TrainTestFolder();
        var corrupt = Path.Combine(root, "train", "cat", "c.png");
        File.WriteAllText(corrupt, "this is not a PNG");
        var e = Assert.Throws<InvalidDataException>(() => VisionData.Load(Options(root)));
        Assert.Contains(corrupt, e.Message);

        File.Delete(corrupt);
        var truncated = Path.Combine(root, "test", "dog", "e.png");
        WriteImage(truncated, 7);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        e = Assert.Throws<InvalidDataException>(() => VisionData.Load(Options(root)));
        Assert.Contains(truncated, e.Message);
    }

    [Fact]
    public void AnImageOfAnotherSizeIsReportedByName()
    {
        var root = TrainTestFolder();
        var odd = Path.Combine(root, "test", "dog", "z.png");
        WriteImage(odd, 8, width: 4);
        var e = Assert.Throws<InvalidDataException>(() => VisionData.Load(Options(root)));
        Assert.Contains(odd, e.Message);
        Assert.Contains("4×3", e.Message);
    }

    [Fact]
    public void MismatchedClassesAndEmptyClassFoldersAreErrors()
    {
        var root = TrainTestFolder();
        WriteImage(Path.Combine(root, "train", "fox", "a.png"), 0);
        var e = Assert.Throws<InvalidDataException>(() => VisionData.Load(Options(root)));
        Assert.Contains("only in train/: fox", e.Message);

        Directory.Delete(Path.Combine(root, "train", "fox"), recursive: true);
        Directory.CreateDirectory(Path.Combine(root, "test", "empty"));
        Directory.CreateDirectory(Path.Combine(root, "train", "empty"));
        e = Assert.Throws<InvalidDataException>(() => VisionData.Load(Options(root)));
        Assert.Contains(Path.Combine(root, "train", "empty"), e.Message);
    }

    [Fact]
    public void ACacheFolderInsideTheDatasetIsRefused()
    {
        var root = TrainTestFolder();
        var e = Assert.Throws<ArgumentException>(() => VisionData.Load(Options(root) with { CacheDir = Path.Combine(root, "cache") }));
        Assert.Equal("CacheDir", e.ParamName);
    }

    [Fact]
    public void OneFolderIsSplitPerClassDeterministicallyForASeed()
    {
        // Three classes of 10, 10 and 5 images; image n's pattern identifies it.
        var root = _dir.File("flat");
        var n = 0;
        foreach (var (name, count) in new[] { ("a", 10), ("b", 10), ("c", 5) })
            for (var i = 0; i < count; i++)
                WriteImage(Path.Combine(root, name, $"{i:D2}.png"), n++);

        var options = Options(root) with { TestFraction = 0.2, SplitSeed = 1 };
        using var one = VisionData.Load(options);
        using var same = VisionData.Load(options);
        using var other = VisionData.Load(options with { SplitSeed = 2 });

        // round(0.2 · n_c) per class: 2, 2, 1.
        Assert.Equal(new long[] { 8, 8, 4 }, torch.bincount(one.Train.Labels, minlength: 3).data<long>().ToArray());
        Assert.Equal(new long[] { 2, 2, 1 }, torch.bincount(one.Test.Labels, minlength: 3).data<long>().ToArray());
        Assert.True(TensorAssert.Same(one.Test.Pixels, same.Test.Pixels));
        Assert.True(TensorAssert.Same(one.Train.Pixels, same.Train.Pixels));

        // Every image lands on exactly one side (the first pixel, 37n mod 256, names the image).
        int[] Ids(ImageDataset d) => Enumerable.Range(0, (int)d.Count).Select(i => (int)ImageBytes(d, i)[0]).ToArray();
        var all = Ids(one.Train).Concat(Ids(one.Test)).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (int)Value(i, 0, 0, 0)).Order().ToArray(), all);
        Assert.NotEqual(Ids(one.Test), Ids(other.Test));
    }

    [Fact]
    public void GreyscaleImagesGiveOneChannelUnlessThreeAreAskedFor()
    {
        var root = _dir.File("grey");
        for (var i = 0; i < 4; i++)
        {
            var path = Path.Combine(root, i < 2 ? "x" : "y", $"{i}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var bitmap = new SKBitmap(new SKImageInfo(2, 2, SKColorType.Gray8, SKAlphaType.Opaque));
            for (var p = 0; p < 4; p++) bitmap.SetPixel(p % 2, p / 2, new SKColor((byte)(10 * i + p), (byte)(10 * i + p), (byte)(10 * i + p)));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, data.ToArray());
        }
        using var grey = ImageFolderLoader.LoadFolder(root, cacheDir: Cache);
        Assert.Equal(new long[] { 4, 1, 2, 2 }, grey.Pixels.shape);
        Assert.Equal(new byte[] { 30, 31, 32, 33 }, ImageBytes(grey, 3));
        using var rgb = ImageFolderLoader.LoadFolder(root, channels: 3, cacheDir: Cache);
        Assert.Equal(new byte[] { 30, 31, 32, 33, 30, 31, 32, 33, 30, 31, 32, 33 }, ImageBytes(rgb, 3));
    }

    [Fact]
    public void AHandWrittenBmpDecodesToItsPixels()
    {
        // A 24-bit 2×2 BMP: 14-byte file header, 40-byte info header, rows bottom-up as B,G,R padded to 4 bytes.
        var rows = new byte[] { 70, 80, 90, 100, 110, 120, 0, 0, /* bottom row (y = 1) */ 10, 20, 30, 40, 50, 60, 0, 0 /* top row (y = 0) */ };
        var header = new List<byte> { (byte)'B', (byte)'M' };
        void Int(int v) => header.AddRange(BitConverter.GetBytes(v));
        void Short(short v) => header.AddRange(BitConverter.GetBytes(v));
        Int(54 + rows.Length); Int(0); Int(54);
        Int(40); Int(2); Int(2); Short(1); Short(24); Int(0); Int(rows.Length); Int(2835); Int(2835); Int(0); Int(0);
        var root = _dir.File("bmp");
        Directory.CreateDirectory(Path.Combine(root, "only"));
        File.WriteAllBytes(Path.Combine(root, "only", "x.bmp"), [.. header, .. rows]);

        using var data = ImageFolderLoader.LoadFolder(root, cacheDir: Cache);
        // Channel-major R, G, B planes of the top row (x = 0, 1) then the bottom row.
        Assert.Equal(new byte[] { 30, 60, 90, 120, 20, 50, 80, 110, 10, 40, 70, 100 }, ImageBytes(data, 0));
    }

    [Fact]
    public void AnUnwritableCacheFolderIsAClearError()
    {
        var root = TrainTestFolder();
        var blocker = _dir.File("not-a-folder");
        File.WriteAllText(blocker, "a file where the cache folder should be");
        var e = Assert.Throws<IOException>(() => VisionData.Load(Options(root) with { CacheDir = blocker }));
        Assert.Contains("CacheDir", e.Message);
    }

    [Fact]
    public void Cifar10TestFolderLoads10000ImagesOf1000PerClass()
    {
        // TestData throws, naming the folders it searched, when shared/data is missing.
        var folder = TestData.Path("cifar10-jpeg", "test");
        Assert.True(Directory.Exists(folder), $"CIFAR-10 JPEG test folder missing: {folder}");
        var progress = new ProgressRecorder();
        using var test = ImageFolderLoader.LoadFolder(folder, cacheDir: Cache, progress: progress);
        Assert.Equal(new long[] { 10000, 3, 32, 32 }, test.Pixels.shape);
        Assert.Equal(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"], test.ClassNames);
        Assert.All(torch.bincount(test.Labels, minlength: 10).data<long>().ToArray(), n => Assert.Equal(1000, n));
        Assert.Contains(progress.Reports, r => r.Stage == ImageLoadStage.Decoding && r.Done == 10000);

        // Natural images: mean pixel near CIFAR-10's published channel means (0.49, 0.48, 0.45).
        var norm = VisionData.DefaultNormalization(test);
        for (var c = 0; c < 3; c++) Assert.InRange(norm.Mean[c], ChannelNormalization.Cifar10.Mean[c] - 0.02, ChannelNormalization.Cifar10.Mean[c] + 0.02);

        var again = new ProgressRecorder();
        using var cached = ImageFolderLoader.LoadFolder(folder, cacheDir: Cache, progress: again);
        Assert.Equal(ImageLoadStage.CacheHit, Assert.Single(again.Reports).Stage);
        Assert.True(TensorAssert.Same(test.Pixels, cached.Pixels));
    }
}

internal sealed class ProgressRecorder : IProgress<ImageLoadProgress>
{
    private readonly List<ImageLoadProgress> _reports = [];

    public IReadOnlyList<ImageLoadProgress> Reports
    {
        get
        {
            lock (_reports) return _reports.ToArray();
        }
    }

    public void Report(ImageLoadProgress value)
    {
        lock (_reports) _reports.Add(value);
    }
}
