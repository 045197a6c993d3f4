using StatFormer.Attention;
using static TorchSharp.torch;

namespace StatFormer.Tests.Attention;

public class EllipticalMetricTests
{
    // One batch item, one head, two tokens, three coordinates.
    private static readonly float[] Values = { 1, 2, 3, 4, 5, 6 };
    private static readonly float[] PreviousValues = { 0, 2, 1, 4, 1, 3 };
    // |ΔV| = [[1,0,2],[0,4,3]]

    [Fact]
    public void SequenceEstimatorIsTheMaxScaledMeanAbsoluteChange()
    {
        using var v = tensor(Values).reshape(1, 1, 2, 3);
        using var prev = tensor(PreviousValues).reshape(1, 1, 2, 3);
        using var m = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Sequence);
        // mean over tokens = [0.5, 2, 2.5]; divided by its max 2.5
        Assert.Equal(new long[] { 1, 1, 1, 3 }, m.shape);
        AssertClose(new[] { 0.2f, 0.8f, 1.0f }, m.data<float>().ToArray());
    }

    [Fact]
    public void MedianEstimatorIsTheMaxScaledMedianAbsoluteChange()
    {
        // |ΔV| over three tokens = [[1,0,2],[0,-4,3],[5,1,-1]] (signs must not matter)
        using var v = tensor(new float[] { 1, 0, 2, 0, -4, 3, 5, 1, -1 }).reshape(1, 1, 3, 3);
        using var prev = zeros(1, 1, 3, 3);
        using var m = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Median);
        // medians per coordinate = [1, 1, 2]; divided by their max 2 (the mean would give [2, 5/3, 2] / 2)
        Assert.Equal(new long[] { 1, 1, 1, 3 }, m.shape);
        AssertClose(new[] { 0.5f, 0.5f, 1.0f }, m.data<float>().ToArray());
        using var padding = zeros(1, 3, dtype: ScalarType.Bool);
        Assert.Throws<ArgumentException>(() => EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Median, padding));
    }

    [Fact]
    public void CausalEstimatorUsesPrefixMeans()
    {
        using var v = tensor(Values).reshape(1, 1, 2, 3);
        using var prev = tensor(PreviousValues).reshape(1, 1, 2, 3);
        using var m = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Causal);
        // position 0 sees only itself: [1,0,2]/2; position 1 sees the mean of both: [0.5,2,2.5]/2.5
        Assert.Equal(new long[] { 1, 1, 2, 3 }, m.shape);
        AssertClose(new[] { 0.5f, 0.0f, 1.0f, 0.2f, 0.8f, 1.0f }, m.data<float>().ToArray());
    }

    [Fact]
    public void PaddingIsLeftOutOfTheMean()
    {
        using var v = tensor(Values).reshape(1, 1, 2, 3);
        using var prev = tensor(PreviousValues).reshape(1, 1, 2, 3);
        using var padding = tensor(new[] { false, true }).reshape(1, 2);
        using var m = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Sequence, padding);
        AssertClose(new[] { 0.5f, 0.0f, 1.0f }, m.data<float>().ToArray());
    }

    [Fact]
    public void UnchangedValuesGiveTheIsotropicMetricInsteadOfNaN()
    {
        using var v = tensor(Values).reshape(1, 1, 2, 3);
        using var m = EllipticalMetric.Estimate(v, v, EllipticalEstimator.Sequence);
        AssertClose(new[] { 1f, 1f, 1f }, m.data<float>().ToArray());
    }

    [Fact]
    public void NoGradientFlowsThroughTheMetric()
    {
        using var v = tensor(Values).reshape(1, 1, 2, 3).requires_grad_();
        using var prev = tensor(PreviousValues).reshape(1, 1, 2, 3).requires_grad_();
        using var m = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Causal);
        Assert.False(m.requires_grad);
    }

    internal static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"index {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void TheStepEstimateContinuesTheCausalEstimateExactly()
    {
        // Cached decoding: the prefix sums continued chunk by chunk (1, 3, then single positions) give the causal m bit for bit.
        var generator = new TorchSharp.torch.Generator(3);
        using var v = randn(new long[] { 2, 3, 9, 4 }, generator: generator);
        using var prev = randn(new long[] { 2, 3, 9, 4 }, generator: generator);
        using var full = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Causal);
        using var sums = zeros(new long[] { 2, 3, 1, 4 }, dtype: ScalarType.Float64);
        var start = 0;
        foreach (var n in new[] { 1, 3, 1, 1, 1, 1, 1 })
        {
            using var step = EllipticalMetric.EstimateStep(v.narrow(2, start, n), prev.narrow(2, start, n), sums);
            Assert.True(StatFormer.Tests.Training.TensorAssert.SameTensor(step, full.narrow(2, start, n)), $"positions {start}..{start + n - 1} differ");
            start += n;
        }
        Assert.Equal(9, start);
    }
}
