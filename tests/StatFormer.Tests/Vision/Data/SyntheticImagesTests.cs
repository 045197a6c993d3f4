using StatFormer.Vision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Data;

public sealed class SyntheticImagesTests
{
    private static readonly SyntheticImageOptions Small = new()
    {
        Classes = 10, Channels = 3, Size = 16, PatchSize = 4, TrainCount = 2000, TestCount = 2000, InformativeFeatures = 6, Seed = 7,
    };

    [Fact]
    public void SameSeedGivesTheSameImagesAndAnotherSeedDifferentOnes()
    {
        using var a = SyntheticImages.Generate(Small with { TrainCount = 50, TestCount = 20 });
        using var b = SyntheticImages.Generate(Small with { TrainCount = 50, TestCount = 20 });
        using var c = SyntheticImages.Generate(Small with { TrainCount = 50, TestCount = 20, Seed = 8 });
        Assert.True(TensorAssert.Same(a.Splits.Train.Pixels, b.Splits.Train.Pixels));
        Assert.True(TensorAssert.Same(a.Splits.Test.Pixels, b.Splits.Test.Pixels));
        Assert.True(TensorAssert.Same(a.Splits.Train.Labels, b.Splits.Train.Labels));
        Assert.Equal(a.Informative, b.Informative);
        Assert.False(TensorAssert.Same(a.Splits.Train.Pixels, c.Splits.Train.Pixels));
        // Train and test are different draws, not one image set twice.
        Assert.False(TensorAssert.Same(a.Splits.Train.Pixels.narrow(0, 0, 20), a.Splits.Test.Pixels));
    }

    [Fact]
    public void ShapesLabelsAndLayoutAreAsRequested()
    {
        using var set = SyntheticImages.Generate(Small);
        var train = set.Splits.Train;
        Assert.Equal(new long[] { 2000, 3, 16, 16 }, train.Pixels.shape);
        Assert.Equal(10, train.Classes);
        // Balanced: 2000 / 10 of each class.
        Assert.All(torch.bincount(train.Labels, minlength: 10).data<long>().ToArray(), n => Assert.Equal(200, n));
        Assert.Equal(6, set.Informative.Count);
        Assert.Equal(3 * 4 * 4 - 6, set.Nuisance.Count);
        Assert.Empty(set.Informative.Intersect(set.Nuisance));
        Assert.Equal(10, set.ClassCodes.Select(code => string.Join(",", code)).Distinct().Count());
        Assert.All(set.ClassCodes.SelectMany(code => code), v => Assert.True(v is 1 or -1));
    }

    [Fact]
    public void PatchMeansFollowTheGenerativeRule()
    {
        using var set = SyntheticImages.Generate(Small);
        var (means, labels) = PatchMeans(set.Splits.Train, set);
        for (var k = 0; k < 10; k++)
        {
            var rows = labels.Select((l, i) => (l, i)).Where(t => t.l == k).Select(t => t.i).ToArray();
            for (var f = 0; f < set.Informative.Count; f++)
            {
                // 0.5 + 0.15 · code: clamping never bites here (0.65 ± 3 · 0.1 noise stays inside [0, 1] almost always).
                var mean = rows.Average(i => means[i][f]);
                Assert.InRange(mean, 0.5 + 0.15 * set.ClassCodes[k][f] - 0.01, 0.5 + 0.15 * set.ClassCodes[k][f] + 0.01);
            }
            for (var f = set.Informative.Count; f < means[0].Length; f++)
            {
                // A nuisance patch averages to grey in every class (offset N(0, 0.2²), clamped symmetrically); the
                // standard error over 200 images is about 0.2 / √200 ≈ 0.014.
                var mean = rows.Average(i => means[i][f]);
                Assert.InRange(mean, 0.5 - 0.06, 0.5 + 0.06);
            }
        }
    }

    [Fact]
    public void ALinearClassifierSucceedsOnTheInformativePatchesAndIsAtChanceOnTheNuisance()
    {
        using var set = SyntheticImages.Generate(Small);
        var (train, trainLabels) = PatchMeans(set.Splits.Train, set);
        var (test, testLabels) = PatchMeans(set.Splits.Test, set);
        var informative = Enumerable.Range(0, set.Informative.Count).ToArray();
        var nuisance = Enumerable.Range(set.Informative.Count, set.Nuisance.Count).ToArray();

        var onInformative = NearestMeanAccuracy(train, trainLabels, test, testLabels, informative);
        var onNuisance = NearestMeanAccuracy(train, trainLabels, test, testLabels, nuisance);

        Assert.True(onInformative > 0.98, $"accuracy on the informative patches {onInformative}");
        // Chance is 0.1; the standard error over 2000 test images is √(0.09 / 2000) ≈ 0.0067, so ±0.04 is six of them.
        Assert.InRange(onNuisance, 0.06, 0.14);
    }

    [Fact]
    public void LoadDispatchesToTheGeneratorAndAppliesStratifiedLimits()
    {
        var options = new VisionDataOptions { Synthetic = Small with { TrainCount = 500, TestCount = 300 }, MaxTrain = 100, MaxTest = 50, SplitSeed = 3 };
        using var splits = VisionData.Load(options);
        Assert.Equal(100, splits.Train.Count);
        Assert.Equal(50, splits.Test.Count);
        // 500 balanced images → 100 keeps 10 of each class; 300 → 50 keeps 5 of each.
        Assert.All(torch.bincount(splits.Train.Labels, minlength: 10).data<long>().ToArray(), n => Assert.Equal(10, n));
        Assert.All(torch.bincount(splits.Test.Labels, minlength: 10).data<long>().ToArray(), n => Assert.Equal(5, n));
        Assert.Equal("synthetic:seed=7", splits.Train.Source);

        using var again = VisionData.Load(options);
        Assert.True(TensorAssert.Same(splits.Train.Pixels, again.Train.Pixels));
        using var otherSeed = VisionData.Load(options with { SplitSeed = 4 });
        Assert.False(TensorAssert.Same(splits.Train.Pixels, otherSeed.Train.Pixels));
    }

    [Fact]
    public void DefaultNormalizationIsTheTrainingSetsChannelStatistics()
    {
        // Two 1×2×2 images: channel values {0, 255, 255, 255} and {0, 0, 0, 0} → mean 3/8, variance 3/8 − 9/64 = 15/64.
        var pixels = torch.tensor(new byte[] { 0, 255, 255, 255, 0, 0, 0, 0 }, new long[] { 2, 1, 2, 2 });
        using var data = new ImageDataset(pixels, torch.tensor(new long[] { 0, 1 }), ["a", "b"], "test");
        var norm = VisionData.DefaultNormalization(data);
        Assert.Equal(0.375, norm.Mean[0], 12);
        Assert.Equal(Math.Sqrt(15.0 / 64), norm.Std[0], 12);
    }

    [Theory]
    [InlineData("Synthetic.Size")]
    [InlineData("Synthetic.InformativeFeatures")]
    [InlineData("Augment.RandomCropPadding")]
    [InlineData("Augment.RandAugment.Magnitude")]
    [InlineData("Path")]
    [InlineData("TestFraction")]
    [InlineData("Channels")]
    public void InvalidOptionsNameTheirPropertyPath(string property)
    {
        var options = property switch
        {
            "Synthetic.Size" => new VisionDataOptions { Synthetic = new() { Size = 30, PatchSize = 4 } },
            "Synthetic.InformativeFeatures" => new VisionDataOptions { Synthetic = new() { Classes = 10, InformativeFeatures = 3 } },
            "Augment.RandomCropPadding" => new VisionDataOptions { Augment = new() { RandomCropPadding = -1 } },
            "Augment.RandAugment.Magnitude" => new VisionDataOptions { Augment = new() { RandAugment = new() { Magnitude = 31, MagnitudeBins = 31 } } },
            "Path" => new VisionDataOptions { Source = VisionDataSource.Mnist },
            "TestFraction" => new VisionDataOptions { TestFraction = 1.0 },
            _ => new VisionDataOptions { Channels = 2 },
        };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(property, e.ParamName);
    }

    [Fact]
    public void AMaxTrainBelowTheClassCountIsReportedAgainstMaxTrain()
    {
        var e = Assert.Throws<ArgumentException>(() => VisionData.Load(new VisionDataOptions { Synthetic = Small with { TrainCount = 100, TestCount = 20 }, MaxTrain = 5 }));
        Assert.Equal("MaxTrain", e.ParamName);
    }

    /// <summary>Per image, the mean pixel of each informative patch (in feature order), then of each nuisance patch.</summary>
    private static (double[][] Means, long[] Labels) PatchMeans(ImageDataset data, SyntheticImageSet set)
    {
        using var scope = torch.NewDisposeScope();
        var pixels = data.Pixels.to_type(ScalarType.Float64).div(255.0);
        var patches = set.Informative.Concat(set.Nuisance).ToArray();
        var columns = patches.Select(p => pixels.select(1, p.Channel).narrow(1, p.Top, p.Size).narrow(2, p.Left, p.Size)
            .mean(new long[] { 1, 2 }).data<double>().ToArray()).ToArray();
        var means = Enumerable.Range(0, (int)data.Count).Select(i => columns.Select(col => col[i]).ToArray()).ToArray();
        return (means, data.Labels.data<long>().ToArray());
    }

    /// <summary>Nearest class mean on the given feature columns (a linear rule: argmax_k μ_k·x − |μ_k|²/2).</summary>
    private static double NearestMeanAccuracy(double[][] train, long[] trainLabels, double[][] test, long[] testLabels, int[] features)
    {
        var classes = (int)trainLabels.Max() + 1;
        var centroids = Enumerable.Range(0, classes).Select(k =>
        {
            var rows = train.Where((_, i) => trainLabels[i] == k).ToArray();
            return features.Select(f => rows.Average(r => r[f])).ToArray();
        }).ToArray();
        var correct = 0;
        for (var i = 0; i < test.Length; i++)
        {
            var best = Enumerable.Range(0, classes)
                .MinBy(k => features.Select((f, j) => Math.Pow(test[i][f] - centroids[k][j], 2)).Sum());
            if (best == testLabels[i]) correct++;
        }
        return (double)correct / test.Length;
    }
}
