using StatFormer.Data;
using TorchSharp;

namespace StatFormer.Vision.Data;

/// <summary>
/// MNIST from its four IDX files in one folder (gzip-compressed with a <c>.gz</c> suffix, or not), through the shared
/// <see cref="IdxReader"/>: 60,000 training and 10,000 test images, 1×28×28, classes "0" … "9".
/// </summary>
public static class MnistLoader
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    private static readonly string[] ClassNames = Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static ImageSplits Load(string folder, IProgress<ImageLoadProgress>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"MNIST folder not found: {folder}");
        var source = $"mnist:{folder}";
        var train = Read(folder, TrainImages, TrainLabels, source);
        try
        {
            progress?.Report(new ImageLoadProgress(ImageLoadStage.Read, 1, 2));
            var test = Read(folder, TestImages, TestLabels, source);
            progress?.Report(new ImageLoadProgress(ImageLoadStage.Read, 2, 2));
            if (train.Height != test.Height || train.Width != test.Width)
                throw new InvalidDataException($"{folder}: training images are {train.Height}×{train.Width} but test images {test.Height}×{test.Width}");
            return new ImageSplits(train, test);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static ImageDataset Read(string folder, string imagesName, string labelsName, string source)
    {
        var (images, labels) = IdxReader.ReadPair(Locate(folder, imagesName), Locate(folder, labelsName));
        var labelPath = Locate(folder, labelsName);
        var bad = Array.FindIndex(labels, l => l > 9);
        if (bad >= 0)
            throw new InvalidDataException($"{labelPath}: label {labels[bad]} at item {bad} is not a digit 0-9");
        var pixels = torch.tensor(images.Pixels, new long[] { images.Count, 1, images.Rows, images.Cols });
        var labelTensor = torch.tensor(labels.Select(l => (long)l).ToArray());
        return new ImageDataset(pixels, labelTensor, ClassNames, source);
    }

    /// <summary>The file <paramref name="name"/>.gz, else <paramref name="name"/>; a missing file names both.</summary>
    private static string Locate(string folder, string name)
    {
        var gz = Path.Combine(folder, name + ".gz");
        if (File.Exists(gz)) return gz;
        var plain = Path.Combine(folder, name);
        if (File.Exists(plain)) return plain;
        throw new FileNotFoundException($"MNIST file not found: neither {gz} nor {plain} exists", gz);
    }
}
