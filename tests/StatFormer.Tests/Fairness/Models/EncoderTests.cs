using StatFormer.Fairness.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Fairness.Models;

public sealed class EncoderTests
{
    private static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Fact]
    public void LeNet_Maps32x32RgbTo84_WithTheLeNetLayerSizes()
    {
        using var encoder = new LeNetEncoder();
        using var scope = torch.NewDisposeScope();
        var h = encoder.forward(torch.rand(2, 3, 32, 32));
        Assert.Equal(new long[] { 2, 84 }, h.shape);
        Assert.Equal(84, encoder.OutputDim);
        // conv 3→6 (456) + conv 6→16 (2416) + conv 16→120 (48120) + linear 120→84 (10164).
        Assert.Equal(456 + 2416 + 48120 + 10164, ParameterCount(encoder));
        Assert.Throws<ArgumentException>(() => encoder.forward(torch.rand(2, 3, 28, 28)));
    }

    [Theory]
    [InlineData(MlpNormalization.BatchNorm)]
    [InlineData(MlpNormalization.LayerNorm)]
    public void Mlp_MapsFeaturesToTheRepresentation(MlpNormalization normalization)
    {
        using var encoder = new MlpEncoder(24, 32, 16, normalization);
        using var scope = torch.NewDisposeScope();
        var h = encoder.forward(torch.randn(5, 24));
        Assert.Equal(new long[] { 5, 16 }, h.shape);
        Assert.Equal(16, encoder.OutputDim);
        // 24·32+32 + 32·32+32 + 32·16+16 weights, plus 2·(32+32) norm parameters.
        Assert.Equal(24 * 32 + 32 + 32 * 32 + 32 + 32 * 16 + 16 + 2 * 64, ParameterCount(encoder));
        encoder.eval();
        Assert.Equal(new long[] { 1, 16 }, encoder.forward(torch.randn(1, 24)).shape);
        Assert.Throws<ArgumentException>(() => encoder.forward(torch.randn(5, 23)));
    }

    [Fact]
    public void ProjectionHead_EndsInNonAffineBatchNorm()
    {
        using var head = new ProjectionHead(84);
        using var scope = torch.NewDisposeScope();
        var u = head.forward(torch.randn(64, 84));
        Assert.Equal(new long[] { 64, 128 }, u.shape);
        // Two bias-free linears and one affine BatchNorm(84); the last BatchNorm has no parameters.
        Assert.Equal(84 * 84 + 2 * 84 + 84 * 128, ParameterCount(head));
        // In training mode the output is batch-standardised per column.
        var mean = u.mean([0L]).abs().max().item<float>();
        var variance = u.var([0L], unbiased: false);
        Assert.True(mean < 1e-4f, $"max |column mean| {mean}");
        Assert.True((variance - 1).abs().max().item<float>() < 1e-3f);
        using var small = new ProjectionHead(16, projectionDim: 8);
        Assert.Equal(new long[] { 4, 8 }, small.forward(torch.randn(4, 16)).shape);
    }
}
