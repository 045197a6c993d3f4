using StatFormer.Vision.Data;
using TorchSharp;

namespace StatFormer.Tests.Vision.Data;

public sealed class MnistLoaderTests
{
    [Fact]
    public void MnistLoadsWithItsPublishedCountsAndStatistics()
    {
        // TestData throws, naming the folders it searched, when shared/data is missing.
        var folder = TestData.Path("mnist");
        Assert.True(File.Exists(Path.Combine(folder, "train-images-idx3-ubyte.gz")), $"MNIST is missing from {folder}");
        using var splits = VisionData.Load(new VisionDataOptions { Source = VisionDataSource.Mnist, Path = folder });
        Assert.Equal(new long[] { 60000, 1, 28, 28 }, splits.Train.Pixels.shape);
        Assert.Equal(new long[] { 10000, 1, 28, 28 }, splits.Test.Pixels.shape);
        Assert.Equal(Enumerable.Range(0, 10).Select(d => d.ToString()), splits.Train.ClassNames);
        Assert.Equal(new long[] { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 },
            torch.bincount(splits.Train.Labels, minlength: 10).data<long>().ToArray());
        Assert.Equal(10000, torch.bincount(splits.Test.Labels, minlength: 10).sum().item<long>());

        // The familiar MNIST normalisation constants are the training pixels' mean and standard deviation.
        var norm = VisionData.DefaultNormalization(splits.Train);
        Assert.Equal(0.1307, norm.Mean[0], 4);
        Assert.Equal(0.3081, norm.Std[0], 4);
    }

    [Fact]
    public void AFolderWithoutTheIdxFilesNamesTheMissingFile()
    {
        var folder = Directory.CreateTempSubdirectory("statformer-mnist-").FullName;
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => MnistLoader.Load(folder));
            Assert.Contains(Path.Combine(folder, "train-images-idx3-ubyte.gz"), e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
