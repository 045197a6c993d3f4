using StatFormer.Experiments;

namespace StatFormer.Tests.Experiments;

public class EvaluationSetsTests
{
    [Fact]
    public void WordStreamsMarkExactlyTheSwappedTargetsAsCorrupted()
    {
        var data = LmDataset.Load(LmDataset.Synthetic, "word");
        var sets = EvaluationSets.Build(data, new LmRunOptions { AttackRates = new[] { 0.1 } });
        var attacked = Assert.Single(sets.Attacked);
        var unchanged = Assert.IsType<bool[]>(attacked.UncorruptedTargets);
        Assert.Equal(sets.Test.Length, attacked.Tokens.Length);
        var corrupted = 0;
        for (var i = 0; i < unchanged.Length; i++)
        {
            Assert.Equal(sets.Test[i] == attacked.Tokens[i], unchanged[i]);
            if (!unchanged[i]) corrupted++;
        }
        // Every swapped word becomes <unk>, so each swap corrupts exactly one target.
        Assert.Equal(attacked.WordsSwapped, corrupted);
    }

    [Fact]
    public void CharacterStreamsAreNotAlignedSoHaveNoMask()
    {
        var data = LmDataset.Load(LmDataset.Synthetic, "char");
        var sets = EvaluationSets.Build(data, new LmRunOptions { AttackRates = new[] { 0.1 } });
        Assert.Null(Assert.Single(sets.Attacked).UncorruptedTargets);
    }
}
