using StatFormer.Data;
using StatFormer.Fairness.Data;
using StatFormer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Fairness.Data;

public sealed class AugmentationTests
{
    private static Tensor Images(int b = 4, int size = 28) => torch.rand([b, 3, size, size], generator: new Generator(1));

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        var maxDiff = (expected - actual).abs().max().item<float>();
        Assert.True(maxDiff <= tolerance, $"max |Δ| = {maxDiff}");
    }

    [Fact]
    public void RandomResizedCrop_ShapeRangeAndDeterminismWithGenerator()
    {
        using var scope = torch.NewDisposeScope();
        var images = Images();
        var a = ImageAugmentation.RandomResizedCrop(images, generator: new Generator(7));
        var b = ImageAugmentation.RandomResizedCrop(images, generator: new Generator(7));
        var c = ImageAugmentation.RandomResizedCrop(images, generator: new Generator(8));
        Assert.Equal(new long[] { 4, 3, 32, 32 }, a.shape);
        Assert.True(a.min().item<float>() >= 0f && a.max().item<float>() <= 1f);
        Assert.True(TensorAssert.SameTensor(a, b));
        Assert.False(TensorAssert.SameTensor(a, c));
    }

    [Theory]
    [InlineData(InterpolationMode.Bicubic)]
    [InlineData(InterpolationMode.Bilinear)]
    public void FullBoxCrop_EqualsPlainResize(InterpolationMode mode)
    {
        using var scope = torch.NewDisposeScope();
        var images = Images();
        var crop = ImageAugmentation.RandomResizedCrop(images, 32, minScale: 1, maxScale: 1, minRatio: 1, maxRatio: 1, mode: mode);
        AssertClose(ImageAugmentation.Resize(images, 32, mode), crop);
    }

    [Theory]
    [InlineData(InterpolationMode.Bicubic, 32)]
    [InlineData(InterpolationMode.Bilinear, 32)]
    [InlineData(InterpolationMode.Bicubic, 7)]
    [InlineData(InterpolationMode.Bilinear, 7)]
    public void CropAndResize_EqualsSliceThenLibtorchInterpolate(InterpolationMode mode, int outSize)
    {
        // The matrix form must reproduce "crop, then resize the crop" (torchvision's resized_crop), up- and downsampling.
        using var scope = torch.NewDisposeScope();
        var images = Images(b: 2);
        ImageAugmentation.CropBox[] boxes = [new(3, 5, 10, 12), new(0, 14, 28, 14)];
        var actual = ImageAugmentation.CropAndResize(images, boxes, outSize, outSize, mode);
        for (var k = 0; k < 2; k++)
        {
            var box = boxes[k];
            var slice = images[k..(k + 1), .., box.Top..(box.Top + box.Height), box.Left..(box.Left + box.Width)];
            var expected = nn.functional.interpolate(slice, [outSize, outSize], mode: mode, align_corners: false).clamp(0, 1);
            AssertClose(expected, actual[k..(k + 1)]);
        }
    }

    [Fact]
    public void SampledBoxes_StayInsideTheImage_AndRespectTheScaleRange()
    {
        var rng = new Random(2);
        for (var trial = 0; trial < 2000; trial++)
        {
            var uniforms = Enumerable.Range(0, 40).Select(_ => rng.NextDouble()).ToArray();
            var box = ImageAugmentation.SampleBox(28, 28, 0.08, 1.0, 3.0 / 4, 4.0 / 3, uniforms);
            Assert.InRange(box.Top, 0, 28 - box.Height);
            Assert.InRange(box.Left, 0, 28 - box.Width);
            Assert.InRange(box.Height * box.Width / 784.0, 0.05, 1.0);
        }
        // Full scale and ratio 1: the whole image.
        Assert.Equal(new ImageAugmentation.CropBox(0, 0, 28, 28),
            ImageAugmentation.SampleBox(28, 28, 1, 1, 1, 1, Enumerable.Repeat(0.5, 40).ToArray()));
        // Ratio 4 cannot fit at full area (width 56), so every attempt fails and torchvision's fallback applies:
        // full width, height round(28 / 4) = 7, centred.
        Assert.Equal(new ImageAugmentation.CropBox(10, 0, 7, 28),
            ImageAugmentation.SampleBox(28, 28, 1, 1, 4, 4, Enumerable.Repeat(0.5, 40).ToArray()));
    }

    [Fact]
    public void HorizontalFlip_TwiceIsIdentity()
    {
        using var scope = torch.NewDisposeScope();
        var images = Images();
        var once = ImageAugmentation.HorizontalFlip(images, p: 1);
        Assert.True(TensorAssert.SameTensor(images.flip(3), once));
        Assert.True(TensorAssert.SameTensor(images, ImageAugmentation.HorizontalFlip(once, p: 1)));
        Assert.True(TensorAssert.SameTensor(images, ImageAugmentation.HorizontalFlip(images, p: 0)));

        // p = 0.5 flips some images of a large batch and leaves the others.
        var many = torch.rand([200, 1, 2, 2], generator: new Generator(3));
        var flipped = ImageAugmentation.HorizontalFlip(many, generator: new Generator(4));
        var changed = (flipped - many).abs().amax([1L, 2L, 3L]).gt(0).sum().item<long>();
        Assert.InRange(changed, 70, 130);
    }

    [Fact]
    public void Resize_IsDeterministic()
    {
        using var scope = torch.NewDisposeScope();
        var images = Images();
        var a = ImageAugmentation.Resize(images);
        Assert.Equal(new long[] { 4, 3, 32, 32 }, a.shape);
        Assert.True(TensorAssert.SameTensor(a, ImageAugmentation.Resize(images)));
        Assert.True(a.min().item<float>() >= 0f && a.max().item<float>() <= 1f);
    }

    [Fact]
    public void TwoViews_DifferButKeepTheColour()
    {
        using var scope = torch.NewDisposeScope();
        // A uniformly coloured image stays exactly that colour under any crop and flip.
        var colour = torch.tensor(new float[] { 0.2f, 0.5f, 0.9f }).view(1, 3, 1, 1);
        var images = torch.cat([colour.expand(1, 3, 28, 28), Images(b: 1)]);
        var (v1, v2) = ImageAugmentation.TwoViews(images, generator: new Generator(5));
        Assert.Equal(new long[] { 2, 3, 32, 32 }, v1.shape);
        AssertClose(colour.expand(1, 3, 32, 32), v1[..1]);
        AssertClose(colour.expand(1, 3, 32, 32), v2[..1]);
        Assert.False(TensorAssert.SameTensor(v1[1..], v2[1..]));
    }

    [Fact]
    public void TabularCorruption_RateAndValuesFromOtherRows()
    {
        using var scope = torch.NewDisposeScope();
        const int b = 200, f = 50;
        // x[i,j] = 100·i + j: every value identifies its row and column.
        var x = (torch.arange(b, dtype: ScalarType.Float32).unsqueeze(1) * 100 + torch.arange(f, dtype: ScalarType.Float32)).contiguous();
        var corrupted = TabularAugmentation.Corrupt(x, rate: 0.3, generator: new Generator(6));
        var values = corrupted.data<float>().ToArray();
        var replaced = 0;
        for (var i = 0; i < b; i++)
            for (var j = 0; j < f; j++)
            {
                var v = (int)values[i * f + j];
                Assert.Equal(j, v % 100);              // same feature
                Assert.InRange(v / 100, 0, b - 1);     // from a row of the batch
                if (v / 100 != i) replaced++;
            }
        // 10,000 Bernoulli(0.3) entries: sd 0.0046.
        Assert.InRange(replaced / (double)(b * f), 0.28, 0.32);

        Assert.True(TensorAssert.SameTensor(x, TabularAugmentation.Corrupt(x, rate: 0)));
        Assert.Equal(0L, TabularAugmentation.Corrupt(x, rate: 1).eq(x).sum().item<long>());
        var single = x[..1];
        Assert.True(TensorAssert.SameTensor(single, TabularAugmentation.Corrupt(single, rate: 1)));

        var (v1, v2) = TabularAugmentation.TwoViews(x, generator: new Generator(7));
        Assert.False(TensorAssert.SameTensor(v1, v2));
    }
}
