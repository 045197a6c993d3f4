using StatFormer.Fairness.Evaluation;

namespace StatFormer.Tests.Fairness.Evaluation;

public sealed class FairnessMetricsTests
{
    // Ten samples, two groups. Group 0: Y=1 → ŷ = 1,1,0 (TPR 2/3); Y=0 → ŷ = 0,1 (FPR 1/2).
    // Group 1: Y=1 → ŷ = 1,0 (TPR 1/2); Y=0 → ŷ = 0,0,0 (FPR 0).
    private static readonly int[] Groups = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    private static readonly int[] Targets = [1, 1, 1, 0, 0, 1, 1, 0, 0, 0];
    private static readonly int[] Predictions = [1, 1, 0, 0, 1, 1, 0, 0, 0, 0];

    [Fact]
    public void TwoGroups_MatchHandComputation()
    {
        // FSCL EO: y=1: |2/3 − 1/2| = 1/6; y=0: |P(ŷ=0|Y=0): 1/2 − 1| = 1/2; mean 1/3.
        Assert.Equal(100.0 / 3, FairnessMetrics.EqualizedOddsGap(Predictions, Targets, Groups), 10);
        // Hardt: max(|ΔTPR| = 1/6, |ΔFPR| = 1/2).
        Assert.Equal(50.0, FairnessMetrics.EqualizedOddsMaxGap(Predictions, Targets, Groups), 10);
        // DP: P(ŷ=1) = 3/5 in group 0, 1/5 in group 1.
        Assert.Equal(40.0, FairnessMetrics.DemographicParityGap(Predictions, Groups), 10);
    }

    [Fact]
    public void GroupWithoutNegatives_IsSkippedForY0()
    {
        // Group 2 has only Y=1 samples, both predicted 1 (TPR 1).
        int[] groups = [.. Groups, 2, 2];
        int[] targets = [.. Targets, 1, 1];
        int[] predictions = [.. Predictions, 1, 1];
        // y=1 pairs: (0,1) 1/6, (0,2) 1/3, (1,2) 1/2; y=0 pairs: (0,1) 1/2 only. Mean of 4 terms = 1.5/4.
        Assert.Equal(37.5, FairnessMetrics.EqualizedOddsGap(predictions, targets, groups), 10);
        // TPR spread 1 − 1/2, FPR spread 1/2 − 0.
        Assert.Equal(50.0, FairnessMetrics.EqualizedOddsMaxGap(predictions, targets, groups), 10);
        // DP: 3/5, 1/5, 1.
        Assert.Equal(80.0, FairnessMetrics.DemographicParityGap(predictions, groups), 10);
    }

    [Fact]
    public void PerfectPredictions_HaveNoEqualizedOddsGap_ButCanHaveADemographicGap()
    {
        Assert.Equal(0.0, FairnessMetrics.EqualizedOddsGap(Targets, Targets, Groups));
        Assert.Equal(0.0, FairnessMetrics.EqualizedOddsMaxGap(Targets, Targets, Groups));
        // Base rates differ (3/5 vs 2/5), so even a perfect classifier has DP gap 20.
        Assert.Equal(20.0, FairnessMetrics.DemographicParityGap(Targets, Groups), 10);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => FairnessMetrics.EqualizedOddsGap([1, 0], [1], [0, 1]));
        Assert.Throws<ArgumentException>(() => FairnessMetrics.EqualizedOddsMaxGap([2, 0], [1, 0], [0, 1]));
        Assert.Throws<ArgumentException>(() => FairnessMetrics.DemographicParityGap([], []));
    }
}
