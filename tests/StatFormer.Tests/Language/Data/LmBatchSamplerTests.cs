using StatFormer.Data;
using StatFormer.Language.Data;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Data;

public class LmBatchSamplerTests
{
    private static readonly long[] Ids = Enumerable.Range(0, 500).Select(i => (long)i * 3).ToArray();

    [Fact]
    public void SameSeedAndStep_GiveSameBatch_OtherStepsDiffer()
    {
        using var d = NewDisposeScope();
        var (x1, y1) = LmBatchSampler.Sample(Ids, 8, 16, seed: 42, step: 10);
        var (x2, y2) = LmBatchSampler.Sample(Ids, 8, 16, seed: 42, step: 10);
        var (x3, _) = LmBatchSampler.Sample(Ids, 8, 16, seed: 42, step: 11);
        var (x4, _) = LmBatchSampler.Sample(Ids, 8, 16, seed: 43, step: 10);
        Assert.Equal(x1.data<long>().ToArray(), x2.data<long>().ToArray());
        Assert.Equal(y1.data<long>().ToArray(), y2.data<long>().ToArray());
        Assert.NotEqual(x1.data<long>().ToArray(), x3.data<long>().ToArray());
        Assert.NotEqual(x1.data<long>().ToArray(), x4.data<long>().ToArray());
    }

    [Fact]
    public void MixSeed_IsAFixedFunction()
    {
        // Pinned so a change of the mixing (which would silently change resumed runs) is noticed.
        Assert.Equal(Seeds.ForStep(1, 2), Seeds.ForStep(1, 2));
        Assert.NotEqual(Seeds.ForStep(1, 2), Seeds.ForStep(2, 1));
        Assert.Equal(PinnedMix, Seeds.ForStep(1234, 5678));
    }

    private const int PinnedMix = 313096122;

    [Fact]
    public void TargetsAreInputsShiftedByOne_WithInt64Shape()
    {
        using var d = NewDisposeScope();
        var (x, y) = LmBatchSampler.Sample(Ids, 4, 10, seed: 1, step: 0);
        Assert.Equal(ScalarType.Int64, x.dtype);
        Assert.Equal(new long[] { 4, 10 }, x.shape);
        Assert.Equal(new long[] { 4, 10 }, y.shape);
        var xs = x.data<long>().ToArray();
        var ys = y.data<long>().ToArray();
        for (var b = 0; b < 4; b++)
        {
            var start = (int)(xs[b * 10] / 3);
            for (var t = 0; t < 10; t++)
            {
                Assert.Equal(Ids[start + t], xs[b * 10 + t]);
                Assert.Equal(Ids[start + t + 1], ys[b * 10 + t]);
            }
        }
    }

    [Fact]
    public void StartsCoverTheWholeValidRange()
    {
        // With len = seqLen + 2 there are exactly two valid starts; both must occur, nothing past them.
        long[] ids = [0, 1, 2, 3, 4, 5];
        var seen = new HashSet<long>();
        for (var step = 0; step < 50; step++)
        {
            using var d = NewDisposeScope();
            var (x, _) = LmBatchSampler.Sample(ids, 2, 4, seed: 9, step: step);
            seen.UnionWith(x[.., 0].data<long>().ToArray());
        }
        Assert.Equal(new HashSet<long> { 0, 1 }, seen);
    }

    [Fact]
    public void TooShortData_ThrowsNamingSeqLen()
    {
        var e = Assert.Throws<ArgumentException>(() => LmBatchSampler.Sample([1, 2, 3], 2, 3, seed: 0, step: 0));
        Assert.Equal("seqLen", e.ParamName);
        Assert.Contains("3 tokens", e.Message);
    }

    [Fact]
    public void ToIds_WidensEveryId()
    {
        Assert.Equal(new long[] { 0, 7, int.MaxValue }, LmBatchSampler.ToIds([0, 7, int.MaxValue]));
    }
}
