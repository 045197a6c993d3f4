using StatFormer.Data;
using static TorchSharp.torch;

namespace StatFormer.Tests.Data;

public class HostTensorTests
{
    [Fact]
    public void TheValuesLandInLibtorchsAlignedMemory()
    {
        // .NET arrays sit at 8-byte boundaries, so a wrapped array is 64-byte aligned only now and then: eight of each type.
        for (var n = 29; n < 37; n++)
        {
            var values = Enumerable.Range(0, n).Select(i => i * 0.25f - 3).ToArray();
            using var single = HostTensor.From(values, new long[] { n, 1 });
            using var wide = HostTensor.From(values.Select(v => (double)v).ToArray());
            Assert.Equal(new long[] { n, 1 }, single.shape);
            Assert.Equal(ScalarType.Float32, single.dtype);
            Assert.Equal(values, single.data<float>().ToArray());
            Assert.Equal(ScalarType.Float64, wide.dtype);
            Assert.Equal(values.Select(v => (double)v), wide.data<double>().ToArray());
            using var singleStorage = single.storage<float>();
            using var wideStorage = wide.storage<double>();
            Assert.Equal(0, singleStorage.data_ptr().ToInt64() % 64);
            Assert.Equal(0, wideStorage.data_ptr().ToInt64() % 64);
        }
    }
}
