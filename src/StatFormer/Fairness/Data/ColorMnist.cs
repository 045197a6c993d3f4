using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Data;

/// <summary>
/// ColorMNIST as built by the CCLK code (spec §4.1): every MNIST digit gets a background colour, which is the
/// protected attribute z (RGB, 0–255). Per image:
/// <list type="number">
/// <item>a palette index k uniform on 0..9, independent of the digit;</item>
/// <item>c = tab10[k] + trunc(N(0,1)·40) per channel (truncation toward zero, like numpy's astype(int)), clipped to [0,255];</item>
/// <item>pixel[ch] = (255 − v)/255 · c[ch] / 255 for grey value v, so the stroke (v = 255) is black and the background
/// (v = 0) is exactly c/255. No rounding to bytes is applied.</item>
/// </list>
/// Colours are drawn once per split from <see cref="System.Random"/> seeded by (seed, split name), image by image in
/// file order with Box–Muller normals, so they are fixed per image, reproducible across platforms and independent of
/// any other random state; a subset of the first n images gets the same colours as the full split.
/// </summary>
public static class ColorMnist
{
    /// <summary>Standard deviation of the per-channel colour noise (0–255 scale).</summary>
    public const double NoiseStd = 40.0;

    /// <summary>The matplotlib "tab10" palette, RGB 0–255, in index order.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> Palette { get; } =
    [
        [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
        [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
    ];

    /// <summary>Names of the palette entries (the group names of ColorMNIST).</summary>
    public static IReadOnlyList<string> PaletteNames { get; } =
        ["blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive", "cyan"];

    /// <summary>File names of the MNIST files <see cref="Load"/> reads.</summary>
    public static IReadOnlyList<string> MnistFiles { get; } =
    [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ];

    /// <summary>
    /// Colours one split. The colour stream is seeded by <paramref name="seed"/> mixed with <paramref name="splitName"/>,
    /// so "train" and "test" of the same seed get independent colours.
    /// </summary>
    /// <returns>A split whose z is the background RGB and whose groups are the nearest tab10 colour.</returns>
    public static FairSplit Create(IdxImages images, byte[] labels, int seed, string splitName)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentException.ThrowIfNullOrEmpty(splitName);
        if (images.Count != labels.Length)
            throw new ArgumentException($"{splitName}: {images.Count} images but {labels.Length} labels", nameof(labels));
        if (images.Count < 1)
            throw new ArgumentException($"{splitName}: no images", nameof(images));
        var badLabel = Array.FindIndex(labels, l => l > 9);
        if (badLabel >= 0)
            throw new ArgumentException($"{splitName}: label {labels[badLabel]} at index {badLabel} is not a digit 0–9", nameof(labels));

        var (_, rgb) = SampleColours(images.Count, Seeds.ForName(seed, splitName));
        var groups = new long[images.Count];
        for (var i = 0; i < images.Count; i++) groups[i] = NearestPaletteIndex(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);

        using var scope = torch.NewDisposeScope();
        var pixels = torch.tensor(images.Pixels, [images.Count, images.Rows, images.Cols], dtype: ScalarType.Byte);
        var targets = torch.tensor(labels.Select(l => (long)l).ToArray(), dtype: ScalarType.Int64);
        var colours = torch.tensor(rgb, [images.Count, 3], dtype: ScalarType.Float32);
        var groupTensor = torch.tensor(groups, dtype: ScalarType.Int64);
        return FairSplit.FromColouredImages(pixels, targets, colours, groupTensor);
    }

    /// <summary>
    /// Reads the four MNIST files from <paramref name="mnistDir"/> and builds ColorMNIST (train 60k, test 10k, or the
    /// first <paramref name="trainLimit"/> / <paramref name="testLimit"/> images when given; a limit above the split
    /// size keeps the whole split). Train and test colours come from seeds derived from <paramref name="seed"/>.
    /// </summary>
    public static FairDataset Load(string mnistDir, int seed, int? trainLimit = null, int? testLimit = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(mnistDir);
        if (trainLimit is < 1) throw new ArgumentException($"trainLimit must be at least 1, got {trainLimit}", nameof(trainLimit));
        if (testLimit is < 1) throw new ArgumentException($"testLimit must be at least 1, got {testLimit}", nameof(testLimit));
        if (!Directory.Exists(mnistDir))
            throw new DirectoryNotFoundException($"MNIST folder not found: {mnistDir} (it must hold {string.Join(", ", MnistFiles)}).");
        var paths = MnistFiles.Select(f => Path.Combine(mnistDir, f)).ToArray();
        foreach (var path in paths)
            if (!File.Exists(path))
                throw new FileNotFoundException($"ColorMNIST needs the MNIST file {path}, which does not exist.", path);

        var (trainImages, trainLabels) = IdxReader.ReadPair(paths[0], paths[1]);
        var (testImages, testLabels) = IdxReader.ReadPair(paths[2], paths[3]);
        (trainImages, trainLabels) = Limit(trainImages, trainLabels, trainLimit);
        (testImages, testLabels) = Limit(testImages, testLabels, testLimit);

        var train = Create(trainImages, trainLabels, seed, "train");
        FairSplit? test = null;
        try
        {
            test = Create(testImages, testLabels, seed, "test");
            var description =
                $"ColorMNIST (CCLK recipe): MNIST digits, {train.Count} train / {test.Count} test, each background coloured " +
                $"with a tab10 colour (index uniform on 0..9, independent of the digit) plus per-channel trunc(N(0,1)·{NoiseStd}) " +
                $"noise clipped to [0,255]; z = background RGB (0–255 raw, standardised for the losses); groups = nearest " +
                $"tab10 colour; colour seed {seed}.";
            return new FairDataset("colormnist", FairInputKind.Image, train, test, numClasses: 10, sensitiveIsContinuous: true,
                PaletteNames, ["red", "green", "blue"], [], description);
        }
        catch
        {
            train.Dispose();
            test?.Dispose();
            throw;
        }
    }

    /// <summary>The palette index k and clipped colour (RGB triples, flattened [count·3]) of each image, in order.</summary>
    internal static (int[] PaletteIndices, float[] Rgb) SampleColours(int count, int seed)
    {
        var rng = new Random(seed);
        var indices = new int[count];
        var rgb = new float[3 * count];
        for (var i = 0; i < count; i++)
        {
            var k = rng.Next(Palette.Count);
            indices[i] = k;
            for (var ch = 0; ch < 3; ch++)
            {
                // (int) truncates toward zero, as numpy's astype(int) does in the recipe.
                var noise = (int)(rng.NextStandardNormal() * NoiseStd);
                rgb[3 * i + ch] = Math.Clamp(Palette[k][ch] + noise, 0, 255);
            }
        }
        return (indices, rgb);
    }

    /// <summary>Index of the tab10 colour nearest (Euclidean, RGB) to the given colour.</summary>
    internal static int NearestPaletteIndex(float r, float g, float b)
    {
        var best = 0;
        var bestDistance = double.MaxValue;
        for (var k = 0; k < Palette.Count; k++)
        {
            double dr = r - Palette[k][0], dg = g - Palette[k][1], db = b - Palette[k][2];
            var distance = dr * dr + dg * dg + db * db;
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = k;
            }
        }
        return best;
    }

    private static (IdxImages, byte[]) Limit(IdxImages images, byte[] labels, int? limit) =>
        limit is { } n && n < images.Count ? (images.Take(n), labels[..n]) : (images, labels);
}
