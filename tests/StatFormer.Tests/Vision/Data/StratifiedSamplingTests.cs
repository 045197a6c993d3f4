using StatFormer.Vision.Data;

namespace StatFormer.Tests.Vision.Data;

public sealed class StratifiedSamplingTests
{
    [Fact]
    public void SubsetSharesFollowLargestRemaindersAfterOneEach()
    {
        // Classes of 6, 3 and 1; 5 kept: one each, then the other 2 over (5, 2, 0) of the 7 others → quotas
        // 1.43, 0.57, 0 → floors (1, 0, 0) and the last one to the largest remainder (class 1): 2, 2, 1.
        long[] labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2];
        var kept = StratifiedSampling.Subset(labels, 3, 5, seed: 1, "test");
        Assert.Equal([2, 2, 1], Enumerable.Range(0, 3).Select(c => kept.Count(i => labels[i] == c)));
        Assert.Equal(kept.Order(), kept);
        Assert.Equal(kept.Length, kept.Distinct().Count());
        Assert.Equal(kept, StratifiedSampling.Subset(labels, 3, 5, seed: 1, "test"));
        Assert.Throws<ArgumentException>(() => StratifiedSampling.Subset(labels, 3, 2, seed: 1, "test"));
    }

    [Fact]
    public void SplitRoundsEachClassAndKeepsOneOnEachSide()
    {
        // 10 × 0.25 = 2.5 → 3 test images; 2 × 0.25 = 0.5 → 1 (away from zero), and never all of a class.
        long[] labels = [.. Enumerable.Repeat(0L, 10), 1, 1];
        var (train, test) = StratifiedSampling.Split(labels, ["a", "b"], 0.25, seed: 3);
        Assert.Equal(3, test.Count(i => labels[i] == 0));
        Assert.Equal(1, test.Count(i => labels[i] == 1));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), train.Concat(test).Order());
        var e = Assert.Throws<InvalidDataException>(() => StratifiedSampling.Split([0, 0, 1], ["a", "lonely"], 0.5, seed: 3));
        Assert.Contains("'lonely'", e.Message);
    }
}
