using StatFormer.Vision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Experiments;

/// <summary>
/// A tiny learnable image set for tests: 1×8×8 images of noise in [0.3, 0.6] in which class k brightens (+0.4) the pixel
/// rows r with r mod 4 = k, so a small model separates the classes within a few dozen steps and chance is 1/classes.
/// </summary>
internal static class LearnableImages
{
    public static ImageSplits Create(int train = 256, int test = 128, int classes = 4, int seed = 0) =>
        new(Make(train, classes, seed * 2 + 1), Make(test, classes, seed * 2 + 2));

    private static ImageDataset Make(int count, int classes, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var labels = torch.arange(count, dtype: ScalarType.Int64).remainder(classes);
        var images = torch.rand(new long[] { count, 1, 8, 8 }, generator: generator).mul_(0.3).add_(0.3);
        // Stripe masks [4,1,8,8], one per class (classes beyond 4 reuse them in turn): rows r with r mod 4 = k. Every 4×4
        // patch then shows the class, so even uniform attention (a fresh ViT's) passes it on to the pooled token.
        var stripes = torch.zeros(4, 1, 8, 8);
        for (var k = 0; k < 4; k++)
            for (var row = k; row < 8; row += 4) stripes[k, 0, row] = torch.tensor(1f);
        images.add_(stripes.index_select(0, labels.remainder(4)).mul_(0.4));
        var pixels = images.clamp(0, 1).mul(255).round().to_type(ScalarType.Byte);
        return new ImageDataset(pixels.DetachFromDisposeScope(), labels.DetachFromDisposeScope(),
            Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(), $"learnable:seed={seed}");
    }
}
