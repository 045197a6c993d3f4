using StatFormer.Tests.Vision.Data;
using StatFormer.Vision.Corruptions;
using TorchSharp;

namespace StatFormer.Tests.Vision.Corruptions;

/// <summary>Corruptions draw from their own generators only: torch's global stream is where it was (run alone, as any test reading that stream).</summary>
[Collection(GlobalGeneratorCollection.Name)]
public sealed class CorruptionGlobalGeneratorTests
{
    [Fact]
    public void CorruptingLeavesTheGlobalGeneratorUntouched()
    {
        using var images = ImageCorruptionTests.ColourImages(2);
        torch.manual_seed(5);
        using var before = torch.rand(4);
        torch.manual_seed(5);
        foreach (var kind in new[] { CorruptionKind.GaussianNoise, CorruptionKind.GlassBlur, CorruptionKind.MotionBlur, CorruptionKind.Snow, CorruptionKind.Fog, CorruptionKind.Elastic })
        {
            using var generator = ImageCorruptions.GeneratorFor(1, CorruptionSet.Cifar10C, kind, 3);
            using var corrupted = ImageCorruptions.Apply(CorruptionSet.Cifar10C, kind, 3, images, generator);
        }
        using var after = torch.rand(4);
        Assert.True(TensorAssert.Same(before, after));
    }
}
