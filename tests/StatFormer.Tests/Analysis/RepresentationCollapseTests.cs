using StatFormer.Analysis;
using static TorchSharp.torch;

namespace StatFormer.Tests.Analysis;

public sealed class RepresentationCollapseTests
{
    [Fact]
    public void MeanPairwiseCosineOfAHandExample()
    {
        // (1,0), (0,1), (1,1): cosines 0, 1/√2, 1/√2, each pair counted in both orders.
        using var hidden = tensor(new float[] { 1, 0, 0, 1, 1, 1 }).reshape(1, 3, 2);
        var expected = (0 + 2 / Math.Sqrt(2)) * 2 / 6;
        Assert.Equal(0.4714, expected, 4);
        Assert.Equal(expected, RepresentationCollapse.MeanPairwiseCosine(hidden), 6);
    }

    [Fact]
    public void IdenticalDirectionsAreFullyCollapsedAndScaleDoesNotMatter()
    {
        using var hidden = tensor(new float[] { 1, 2, 2, 4, 0.5f, 1 }).reshape(1, 3, 2);
        Assert.Equal(1.0, RepresentationCollapse.MeanPairwiseCosine(hidden), 6);
    }

    [Fact]
    public void AveragesOverSequences()
    {
        // Sequence 0 fully collapsed (1), sequence 1 the hand example (0.4714).
        using var hidden = tensor(new float[] { 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1 }).reshape(2, 3, 2);
        Assert.Equal((1 + 2 / Math.Sqrt(2) * 2 / 6) / 2, RepresentationCollapse.MeanPairwiseCosine(hidden), 6);
    }

    [Fact]
    public void NeedsTwoTokens()
    {
        using var hidden = ones(2, 1, 4);
        Assert.Throws<ArgumentException>(() => RepresentationCollapse.MeanPairwiseCosine(hidden));
    }
}
