using StatFormer.Data;

namespace StatFormer.Tests.Data;

public class SeedsTests
{
    // Pinned: each rule seeds streams whose draws are in written results (a resumed run must match them), so a change
    // of any rule must be noticed. ForStep's pin is in LmBatchSamplerTests (its stream).
    [Fact]
    public void ForStream_IsTheFairRunsFixedRule()
    {
        Assert.Equal(766859984, Seeds.ForStream(1234, 5678));
        Assert.Equal(284860865, Seeds.ForStream(0, 3));
        Assert.NotEqual(Seeds.ForStream(1, 2), Seeds.ForStream(2, 1));
    }

    [Fact]
    public void ForName_IsTheGeneratedDataFixedRule()
    {
        Assert.Equal(519302127, Seeds.ForName(1234, "train"));
        Assert.Equal(1912445987, Seeds.ForName(0, "synthetic-test"));
        Assert.NotEqual(Seeds.ForName(0, "train"), Seeds.ForName(0, "test"));
    }

    [Fact]
    public void EveryRuleGivesAValidRandomSeed()
    {
        for (var i = -50; i < 50; i++)
        {
            Assert.InRange(Seeds.ForStream(i, i * 7L), 0, int.MaxValue);
            Assert.InRange(Seeds.ForName(i, "x"), 0, int.MaxValue);
        }
    }

    [Fact]
    public void SplitMix64_MatchesTheReferenceSequence()
    {
        // Vigna's splitmix64.c from state 0: the first output is SplitMix64(0).
        Assert.Equal(0xE220A8397B1DCDAFUL, Seeds.SplitMix64(0));
    }
}
