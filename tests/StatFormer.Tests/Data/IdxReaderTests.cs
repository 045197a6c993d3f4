using System.Buffers.Binary;
using System.IO.Compression;
using StatFormer.Data;
using StatFormer.Tests.Fairness.Data;
using StatFormer.Tests.Training;

namespace StatFormer.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private static byte[] Header(params int[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    private static readonly byte[] Pixels = Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)(i * 10)).ToArray();
    private static readonly byte[] Labels = [7, 0, 9];

    private static byte[] ImageFile() => [.. Header(0x803, 3, 2, 4), .. Pixels];
    private static byte[] LabelFile() => [.. Header(0x801, 3), .. Labels];

    private string Write(string name, byte[] content, bool gzip = false)
    {
        var path = _temp.File(name);
        if (!gzip)
        {
            File.WriteAllBytes(path, content);
            return path;
        }
        using var file = File.Create(path);
        using var stream = new GZipStream(file, CompressionLevel.Fastest);
        stream.Write(content);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsImagesAndLabels_RawOrGzipped(bool gzip)
    {
        // The gzip test deliberately uses names without ".gz": compression is detected from the content.
        var (images, labels) = IdxReader.ReadPair(Write("images.idx", ImageFile(), gzip), Write("labels.idx", LabelFile(), gzip));
        Assert.Equal((3, 2, 4), (images.Count, images.Rows, images.Cols));
        Assert.Equal(Pixels, images.Pixels);
        Assert.Equal(Labels, labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedImages_NameFileAndExpectedLength(bool gzip)
    {
        var path = Write("short.idx", ImageFile()[..^1], gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("expected 40 bytes", e.Message);
        Assert.Contains("found 39", e.Message);
    }

    [Fact]
    public void TrailingBytes_AreAnError()
    {
        var path = Write("long.idx", [.. LabelFile(), 1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("2 trailing bytes", e.Message);
        Assert.Contains("expected 11 bytes", e.Message);
    }

    [Fact]
    public void TruncatedHeader_IsAnError()
    {
        var path = Write("header.idx", Header(0x803, 3, 2));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void WrongMagic_NamesFileAndBothMagics()
    {
        var labels = Write("labels.idx", LabelFile());
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(labels));
        Assert.Contains(labels, e.Message);
        Assert.Contains("0x00000803", e.Message);
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void NonPositiveDimension_IsAnError()
    {
        var path = Write("zero.idx", Header(0x803, 1, 0, 4));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("rows must be positive", e.Message);
    }

    [Fact]
    public void CountMismatch_NamesBothFiles()
    {
        var images = Write("images.idx", ImageFile());
        var labels = Write("labels.idx", [.. Header(0x801, 2), 1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadPair(images, labels));
        Assert.Contains(images, e.Message);
        Assert.Contains(labels, e.Message);
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void MissingFile_IsNamed()
    {
        var path = _temp.File("absent.idx");
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadLabels(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void CorruptGzip_IsAUserError()
    {
        var path = Write("bad.gz", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void RealMnist_HeadersAndTrainLabelCounts()
    {
        var dir = TestData.Path("mnist");
        var (train, trainLabels) = MnistFiles.Train;
        Assert.Equal((60000, 28, 28), (train.Count, train.Rows, train.Cols));
        int[] expected = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
        Assert.Equal(expected, Enumerable.Range(0, 10).Select(d => trainLabels.Count(l => l == d)).ToArray());

        var (test, testLabels) = IdxReader.ReadPair(
            Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal((10000, 28, 28), (test.Count, test.Rows, test.Cols));
        Assert.Equal(10000, testLabels.Length);
        Assert.All(testLabels, l => Assert.InRange(l, (byte)0, (byte)9));
    }
}
