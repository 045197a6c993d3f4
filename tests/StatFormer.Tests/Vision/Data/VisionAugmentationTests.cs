using StatFormer.Vision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Data;

[Collection(GlobalGeneratorCollection.Name)]
public sealed class VisionAugmentationTests
{
    /// <summary>A batch of 16 distinct 3×6×7 images with exact 8-bit values, as ImageDataset.Batch gives them.</summary>
    private static Tensor Images(int batch = 16, int channels = 3) =>
        torch.arange(batch * channels * 6 * 7, dtype: ScalarType.Int64).mul(7).remainder(256).to_type(ScalarType.Float32).div(255f)
            .reshape(batch, channels, 6, 7);

    private static Tensor Run(Tensor images, ImageAugmentationOptions options, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return VisionAugmentation.Apply(images, options, generator);
    }

    [Fact]
    public void NoPaddingAndNoFlipIsTheIdentity()
    {
        using var images = Images();
        using var output = Run(images, new ImageAugmentationOptions(), 1);
        Assert.True(TensorAssert.Same(images, output));
    }

    [Fact]
    public void FlipsArePerImageAndTwiceWithTheSameSeedIsTheIdentity()
    {
        using var scope = torch.NewDisposeScope();
        // Sixteen copies of one image: per-image draws must flip some and not others.
        var images = Images(1).expand(16, -1, -1, -1).contiguous();
        var options = new ImageAugmentationOptions { HorizontalFlip = true };
        var once = Run(images, options, 5);
        var mirror = images[0].flip(2);
        var flipped = Enumerable.Range(0, 16).Select(i => TensorAssert.Same(once[i], mirror)).ToArray();
        var kept = Enumerable.Range(0, 16).Select(i => TensorAssert.Same(once[i], images[i])).ToArray();
        Assert.All(Enumerable.Range(0, 16), i => Assert.True(flipped[i] ^ kept[i]));
        Assert.Contains(true, flipped);
        Assert.Contains(true, kept);
        Assert.True(TensorAssert.Same(images, Run(once, options, 5)));
    }

    [Fact]
    public void CropsAreWindowsOfTheZeroPaddedImageAtPerImageOffsets()
    {
        using var scope = torch.NewDisposeScope();
        var images = Images(1).expand(16, -1, -1, -1).contiguous();
        const int p = 2;
        var output = Run(images, new ImageAugmentationOptions { RandomCropPadding = p }, 3);
        Assert.Equal(images.shape, output.shape);
        // The padded image built by hand: zeros with the image in the middle.
        var padded = torch.zeros(3, 6 + 2 * p, 7 + 2 * p);
        padded.narrow(1, p, 6).narrow(2, p, 7).copy_(images[0]);
        var offsets = new HashSet<(int, int)>();
        for (var i = 0; i < 16; i++)
        {
            var match = (from top in Enumerable.Range(0, 2 * p + 1)
                         from left in Enumerable.Range(0, 2 * p + 1)
                         where TensorAssert.Same(output[i], padded.narrow(1, top, 6).narrow(2, left, 7))
                         select (top, left)).ToArray();
            Assert.NotEmpty(match);
            offsets.Add(match[0]);
        }
        Assert.True(offsets.Count > 3, $"only {offsets.Count} distinct offsets over 16 images");
    }

    [Fact]
    public void TheSameSeedGivesTheSameBatchAndAnotherSeedAnother()
    {
        using var scope = torch.NewDisposeScope();
        var images = Images();
        var options = new ImageAugmentationOptions { RandomCropPadding = 2, HorizontalFlip = true, RandAugment = new() };
        var a = Run(images, options, 11);
        Assert.Equal(images.shape, a.shape);
        Assert.True(TensorAssert.Same(a, Run(images, options, 11)));
        Assert.False(TensorAssert.Same(a, Run(images, options, 12)));
        // The input is untouched.
        Assert.True(TensorAssert.Same(images, Images()));
    }

    [Fact]
    public void RandAugmentStaysInPixelSpaceDrawsPerImageAndLeavesTheGlobalGeneratorAlone()
    {
        using var scope = torch.NewDisposeScope();
        var images = Images(1).expand(32, -1, -1, -1).contiguous();
        var options = new ImageAugmentationOptions { RandAugment = new() { Ops = 2, Magnitude = 15 } };

        torch.random.manual_seed(123);
        var expectedNext = torch.rand(4);
        torch.random.manual_seed(123);
        var output = Run(images, options, 4);
        Assert.True(TensorAssert.Same(expectedNext, torch.rand(4)));

        Assert.Equal(images.shape, output.shape);
        Assert.True(output.min().item<float>() >= 0 && output.max().item<float>() <= 1);
        // Still 8-bit values.
        Assert.True(TensorAssert.Same(output.mul(255).round().div(255), output));
        // Copies of one image come out in several different ways.
        var distinct = Enumerable.Range(0, 32).Select(i => string.Join(",", output[i].mul(255).round().to_type(ScalarType.Int32).data<int>().ToArray())).Distinct().Count();
        Assert.True(distinct > 5, $"only {distinct} distinct results over 32 copies");
    }

    [Fact]
    public void RandAugmentRunsOnManySeedsForColourAndGreyImages()
    {
        foreach (var channels in new[] { 3, 1 })
        {
            using var scope = torch.NewDisposeScope();
            var images = Images(8, channels);
            for (var seed = 0; seed < 20; seed++)
            {
                var output = Run(images, new ImageAugmentationOptions { RandAugment = new() { Ops = 3 } }, seed);
                Assert.Equal(images.shape, output.shape);
            }
        }
    }
}
