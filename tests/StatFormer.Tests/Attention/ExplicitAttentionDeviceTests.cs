using StatFormer.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Attention;

/// <summary>Runs alone: it changes torch's process-wide default device, which every parallel test would pick up.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultDeviceCollection
{
    public const string Name = "DefaultDevice";
}

[Collection(DefaultDeviceCollection.Name)]
public class ExplicitAttentionDeviceTests
{
    [Fact]
    public void CausalMaskIsCreatedOnTheQueriesDeviceNotTheDefaultOne()
    {
        // Without a GPU: q lives on the CPU while the default device is "meta", so a mask created without a
        // device lands on meta and masked_fill either fails or returns a meta tensor with no values.
        using var q = tensor(new float[] { 1, 0, 0, 1, 1, 1 }, device: CPU).reshape(1, 1, 3, 2);
        using var k = tensor(new float[] { 1, 0, 0, 1, 2, 0 }, device: CPU).reshape(1, 1, 3, 2);
        using var v = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, device: CPU).reshape(1, 1, 3, 2);
        var previous = get_default_device();
        Tensor output;
        try
        {
            set_default_device(torch.device(DeviceType.META));
            output = ExplicitAttention.Compute(q, k, v, null, null, causal: true, scale: 1.0);
        }
        finally
        {
            set_default_device(previous);
        }
        using (output)
        {
            Assert.Equal(DeviceType.CPU, output.device_type);
            // Hand-computed, scale 1. Row 0 sees key 0 only: v0 = (1, 2). Row 1, q = (0, 1): scores (0, 1) over
            // keys 0..1, weights (1, e)/(1 + e). Row 2, q = (1, 1): scores (1, 1, 2), weights (e, e, e²)/(2e + e²).
            var e = Math.E;
            var w1 = e / (1 + e);
            var w2 = new[] { 1 / (2 + e), 1 / (2 + e), e / (2 + e) };
            var expected = new[]
            {
                1.0, 2.0,
                (1 - w1) * 1 + w1 * 3, (1 - w1) * 2 + w1 * 4,
                w2[0] * 1 + w2[1] * 3 + w2[2] * 5, w2[0] * 2 + w2[1] * 4 + w2[2] * 6,
            };
            var actual = output.data<float>().ToArray();
            for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);
        }
    }
}
