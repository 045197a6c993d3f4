using System.IO.Compression;
using StatFormer.Vision.Corruptions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Corruptions;

/// <summary>
/// The expected edge maps were computed with skimage 0.19.3's <c>feature.canny</c> (Debian's python3-skimage), defaults
/// unless stated; the detector matched it pixel for pixel on the first 1000 MNIST test digits when it was written.
/// </summary>
public sealed class CannyEdgesTests
{
    // 16×16: a white 5×5 square, a faint (0.08) bar touching it and a faint block on its own.
    private static Tensor SquareBarAndBlock()
    {
        var image = zeros(1, 1, 16, 16, dtype: ScalarType.Float32);
        image[0, 0, TensorIndex.Slice(2, 7), TensorIndex.Slice(2, 7)] = tensor(1f);
        image[0, 0, TensorIndex.Slice(7, 9), TensorIndex.Slice(4, 12)] = tensor(0.08f);
        image[0, 0, TensorIndex.Slice(11, 14), TensorIndex.Slice(9, 14)] = tensor(0.08f);
        return image;
    }

    private static string[] Rows(Tensor edges)
    {
        var (h, w) = ((int)edges.shape[^2], (int)edges.shape[^1]);
        var values = edges.reshape(h * w).data<float>().ToArray();
        Assert.All(values, v => Assert.True(v is 0 or 1, $"edge maps are 0/1, found {v}"));
        return Enumerable.Range(0, h).Select(r => string.Concat(values.Skip(r * w).Take(w).Select(v => v == 1 ? '#' : '.'))).ToArray();
    }

    [Fact]
    public void HysteresisKeepsOnlyCandidatesConnectedToAStrongEdge()
    {
        using var image = SquareBarAndBlock();
        string[] hysteresis =
        [
            "................",
            "................",
            "..#####.........",
            "..#...#.........",
            "..#...##........",
            "..#...#.........",
            "..##.##.........",
            "....#...........",
            "................", "................", "................", "................",
            "................", "................", "................", "................",
        ];
        // skimage with low = high = 0.1: every local maximum above 0.1, so the faint edges appear.
        string[] singleThreshold =
        [
            "................",
            "................",
            "..#####.........",
            "..#...#.........",
            "..#...##........",
            "..#...#.........",
            "..##.##...##....",
            "....#......#....",
            "...........#....",
            ".........#......",
            "................",
            ".........#####..",
            "........##...#..",
            ".........##.##..",
            "..........###...",
            "................",
        ];
        using var edges = CannyEdges.Detect(image);
        Assert.Equal(hysteresis, Rows(edges));
        using var candidates = CannyEdges.Detect(image, low: 0.1, high: 0.1);
        Assert.Equal(singleThreshold, Rows(candidates));
    }

    [Fact]
    public void TheFirstMnistTestDigitGivesSkimagesEdges()
    {
        var file = TestData.Path("mnist", "t10k-images-idx3-ubyte.gz");
        Assert.True(File.Exists(file), $"MNIST is missing: {file}");
        using var stream = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
        var bytes = new byte[16 + 784];
        stream.ReadExactly(bytes);
        using var digit = tensor(bytes.Skip(16).Select(b => b / 255f).ToArray()).reshape(1, 1, 28, 28);
        string[] expected =
        [
            "............................", "............................", "............................",
            "............................", "............................", "............................",
            "........#...................",
            "......##.##########.........",
            "......#............###......",
            "......####...........#......",
            "..........########...#......",
            "..................#..#......",
            ".................#..#.......",
            "................##..#.......",
            "................#..#........",
            "...............##..#........",
            "...............#..#.........",
            "..............##..#.........",
            ".............##..#..........",
            ".............#..##..........",
            "............##..#...........",
            "............#..##...........",
            "...........#..##............",
            "...........#..#.............",
            "..........#...#.............",
            "..........#..##.............",
            "..........####..............",
            "............................",
        ];
        using var edges = CannyEdges.Detect(digit);
        Assert.Equal(expected, Rows(edges));
    }

    [Fact]
    public void EachChannelAndImageIsDetectedOnItsOwn()
    {
        using var one = SquareBarAndBlock();
        using var flipped = one.flip(3);
        using var batch = cat([cat([one, flipped], 1), cat([flipped, zeros_like(one)], 1)], 0);   // [2,2,16,16]
        using var edges = CannyEdges.Detect(batch);
        using var alone = CannyEdges.Detect(one);
        using var aloneFlipped = CannyEdges.Detect(flipped);
        Assert.True(edges[0, 0].allclose(alone[0, 0]));
        Assert.True(edges[0, 1].allclose(aloneFlipped[0, 0]) && edges[1, 0].allclose(aloneFlipped[0, 0]));
        Assert.Equal(0, edges[1, 1].sum().item<float>());        // a blank image has no edges
    }
}
