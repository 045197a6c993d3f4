using StatFormer.Data;
using StatFormer.Fairness.Data;
using StatFormer.Tests.Training;

namespace StatFormer.Tests.Fairness.Data;

public sealed class ColorMnistTests
{
    private const int Draws = 5000;

    [Fact]
    public void PaletteIndex_IsUniform()
    {
        var (indices, _) = ColorMnist.SampleColours(Draws, seed: 11);
        // Binomial(5000, 0.1): mean 500, sd 21; ±100 is ~4.7 sd.
        for (var k = 0; k < 10; k++) Assert.InRange(indices.Count(i => i == k), 400, 600);
    }

    [Fact]
    public void ColourNoise_IsTruncatedGaussianWithStd40AroundThePalette()
    {
        var (indices, rgb) = ColorMnist.SampleColours(Draws, seed: 12);
        var deviations = new List<double>();
        for (var i = 0; i < Draws; i++)
            for (var ch = 0; ch < 3; ch++)
            {
                var value = rgb[3 * i + ch];
                Assert.InRange(value, 0f, 255f);
                Assert.Equal(Math.Round(value), value);   // palette + integer noise, clipped: always a whole number
                var p = ColorMnist.Palette[indices[i]][ch];
                // Channels at least 100 from both ends are clipped only beyond 2.5 sd (≈1%), so their deviations show
                // the raw noise: trunc-toward-zero of N(0,40²) has mean 0 and sd ≈ 39.6.
                if (p >= 100 && p <= 155) deviations.Add(value - p);
            }
        Assert.True(deviations.Count > 4000, $"only {deviations.Count} unclipped channel draws");
        var mean = deviations.Average();
        var std = Math.Sqrt(deviations.Select(d => (d - mean) * (d - mean)).Average());
        Assert.InRange(mean, -2.5, 2.5);
        Assert.InRange(std, 38.0, 41.5);
        // Truncation toward zero maps every noise value in (−1, 1) to 0 but only [1, 2) to 1, so 0 is about twice as
        // frequent as ±1 (rounding would make them equally frequent).
        var zeros = deviations.Count(d => d == 0);
        var ones = deviations.Count(d => Math.Abs(d) == 1) / 2.0;
        Assert.True(zeros > 1.5 * ones, $"deviation 0 seen {zeros} times, ±1 {ones} times on average");
    }

    [Fact]
    public void SameSeedSameColours_DifferentSeedOrSplitDifferent()
    {
        var (_, a) = ColorMnist.SampleColours(500, Seeds.ForName(3, "train"));
        var (_, b) = ColorMnist.SampleColours(500, Seeds.ForName(3, "train"));
        var (_, c) = ColorMnist.SampleColours(500, Seeds.ForName(4, "train"));
        var (_, d) = ColorMnist.SampleColours(500, Seeds.ForName(3, "test"));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
        // A prefix of the stream is the stream of a smaller split: subset runs see the same colours.
        var (_, prefix) = ColorMnist.SampleColours(100, Seeds.ForName(3, "train"));
        Assert.Equal(a[..300], prefix);
    }

    [Fact]
    public void Pixels_FollowTheBackgroundRule()
    {
        // Image 0: background 0, stroke 255, one mid-grey 51; image 1: all stroke.
        var pixels = new byte[2 * 28 * 28];
        pixels[5] = 255;
        pixels[6] = 51;
        Array.Fill(pixels, (byte)255, 784, 784);
        var images = new IdxImages(pixels, 2, 28, 28);
        using var split = ColorMnist.Create(images, [3, 8], seed: 1, "train");
        using var inputs = split.Inputs([0L, 1L]);
        Assert.Equal(new long[] { 2, 3, 28, 28 }, inputs.shape);
        var colour = split.Sensitive[0].data<float>().ToArray();
        var x = inputs.data<float>().ToArray();
        for (var ch = 0; ch < 3; ch++)
        {
            var plane = ch * 784;
            Assert.Equal(colour[ch] / 255f, x[plane + 0], 1e-6f);
            Assert.Equal(colour[ch] / 255f, x[plane + 783], 1e-6f);
            Assert.Equal(0f, x[plane + 5]);
            Assert.Equal((255f - 51f) / 255f * colour[ch] / 255f, x[plane + 6], 1e-6f);
        }
        Assert.All(x[(3 * 784)..], v => Assert.Equal(0f, v));
        Assert.Equal(new long[] { 3, 8 }, split.Targets.data<long>().ToArray());
    }

    [Fact]
    public void Load_BuildsBothSplitsWithGroupsAndStandardisedZ()
    {
        using var data = ColorMnist.Load(TestData.Path("mnist"), seed: 5, trainLimit: 2000, testLimit: 300);
        Assert.Equal(("colormnist", FairInputKind.Image, 10, 3, true), (data.Name, data.Kind, data.NumClasses, data.SensitiveDim, data.SensitiveIsContinuous));
        Assert.Equal((2000, 300), (data.Train.Count, data.Test.Count));
        Assert.Equal(3 * 28 * 28, data.Train.InputDim);
        Assert.Equal(10, data.GroupNames.Count);

        // Groups are the nearest palette colour of each z.
        var rgb = data.Train.Sensitive.data<float>().ToArray();
        var groups = data.Train.Groups.data<long>().ToArray();
        for (var i = 0; i < 2000; i++)
            Assert.Equal(ColorMnist.NearestPaletteIndex(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]), groups[i]);

        // Standardised z: train mean 0 / std 1; test uses the train statistics.
        using var trainMean = data.Train.SensitiveStandardized.mean([0L]);
        using var trainStd = data.Train.SensitiveStandardized.std([0L], unbiased: false);
        Assert.All(trainMean.data<float>().ToArray(), m => Assert.Equal(0f, m, 1e-4f));
        Assert.All(trainStd.data<float>().ToArray(), s => Assert.Equal(1f, s, 1e-4f));
        var testRaw = data.Test.Sensitive[7].data<float>().ToArray();
        var testStd = data.Test.SensitiveStandardized[7].data<float>().ToArray();
        for (var ch = 0; ch < 3; ch++)
            Assert.Equal((testRaw[ch] - data.SensitiveMean[ch]) / data.SensitiveStd[ch], testStd[ch], 1e-4);

        using var batch = data.Test.Inputs([0L, 299L, 42L]);
        Assert.Equal(new long[] { 3, 3, 28, 28 }, batch.shape);
        Assert.True(batch.min().item<float>() >= 0f && batch.max().item<float>() <= 1f);

        // The colours are the (seed, split)-streams: train and test differ.
        Assert.Equal(ColorMnist.SampleColours(2000, Seeds.ForName(5, "train")).Rgb, rgb);
        Assert.Equal(ColorMnist.SampleColours(300, Seeds.ForName(5, "test")).Rgb, data.Test.Sensitive.data<float>().ToArray());
        Assert.False(TensorAssert.SameTensor(data.Train.Sensitive[..300], data.Test.Sensitive));
        // The digits are MNIST's own, in file order.
        Assert.Equal(MnistFiles.Train.Labels[..2000].Select(l => (long)l), data.Train.Targets.data<long>().ToArray());
    }

    [Fact]
    public void Create_SameSeedIsReproducible_AndColourIsIndependentOfTheDigit()
    {
        var (images, labels) = MnistFiles.Train;
        var (first, firstLabels) = (images.Take(5000), labels[..5000]);
        using var a = ColorMnist.Create(first, firstLabels, seed: 9, "train");
        using var b = ColorMnist.Create(first, firstLabels, seed: 9, "train");
        using var c = ColorMnist.Create(first, firstLabels, seed: 10, "train");
        Assert.True(TensorAssert.SameTensor(a.Sensitive, b.Sensitive));
        Assert.False(TensorAssert.SameTensor(a.Sensitive, c.Sensitive));

        // Chi-square test of independence between digit and colour group on 5000 images: df = 81 (mean 81, sd 12.7).
        var digits = a.Targets.data<long>().ToArray();
        var groups = a.Groups.data<long>().ToArray();
        var table = new double[10, 10];
        for (var i = 0; i < digits.Length; i++) table[digits[i], groups[i]]++;
        double chi2 = 0;
        for (var d = 0; d < 10; d++)
            for (var g = 0; g < 10; g++)
            {
                double row = 0, col = 0;
                for (var k = 0; k < 10; k++)
                {
                    row += table[d, k];
                    col += table[k, g];
                }
                var expected = row * col / digits.Length;
                chi2 += (table[d, g] - expected) * (table[d, g] - expected) / expected;
            }
        Assert.InRange(chi2, 0, 81 + 5 * 12.7);
    }

    [Fact]
    public void Load_MissingFile_IsNamed()
    {
        using var temp = new TempDir();
        var source = TestData.Path("mnist");
        foreach (var file in ColorMnist.MnistFiles.Take(3)) File.Copy(Path.Combine(source, file), temp.File(file));
        var e = Assert.Throws<FileNotFoundException>(() => ColorMnist.Load(temp.Path, seed: 0));
        Assert.Contains(temp.File("t10k-labels-idx1-ubyte.gz"), e.Message);

        var missingDir = temp.File("nope");
        var e2 = Assert.Throws<DirectoryNotFoundException>(() => ColorMnist.Load(missingDir, seed: 0));
        Assert.Contains(missingDir, e2.Message);
    }

    [Fact]
    public void Create_RejectsMismatchedLabels()
    {
        var images = new IdxImages(new byte[2 * 4], 2, 2, 2);
        Assert.Throws<ArgumentException>(() => ColorMnist.Create(images, [1], seed: 0, "train"));
        Assert.Throws<ArgumentException>(() => ColorMnist.Create(images, [1, 10], seed: 0, "train"));
    }
}
