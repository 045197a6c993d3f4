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

    [Theory]
    [InlineData(2, 3, 17, 13, false)]     // D below one vector: the scalar tail only
    [InlineData(8, 4, 128, 32, true)]     // the language model's layout: views of the fused q/k/v projection
    [InlineData(2, 2, 9, 20, true)]       // two vectors and a tail
    [InlineData(1, 1, 1, 1, false)]
    public void TheHostScanEqualsTheTensorOpsBitForBit(int b, int h, int n, int d, bool fusedLayout)
    {
        var generator = new TorchSharp.torch.Generator(11);
        Tensor Values(double scale)
        {
            if (!fusedLayout) return randn(new long[] { b, h, n, d }, generator: generator) * scale;
            return (randn(new long[] { b, n, 3, h, d }, generator: generator) * scale).permute(2, 0, 3, 1, 4)[2];
        }
        using var scope = NewDisposeScope();
        var v = Values(1000.0);
        var prev = Values(1e-3);
        prev[0, 0].copy_(v[0, 0]);                                              // one head whose values did not change: m = 1
        var host = EllipticalMetric.Estimate(v, prev, EllipticalEstimator.Causal);
        var reference = EllipticalMetric.EstimateWithTensorOps(v, prev, EllipticalEstimator.Causal, null, 1e-6);
        Assert.True(StatFormer.Tests.Training.TensorAssert.SameTensor(host, reference));
        Assert.True(host[0, 0].eq(1f).all().item<bool>());
    }

    [Fact]
    public void TheHostStepEqualsTheTensorStepBitForBit()
    {
        var generator = new TorchSharp.torch.Generator(5);
        using var scope = NewDisposeScope();
        var v = randn(new long[] { 2, 9, 3, 3, 12 }, generator: generator).permute(2, 0, 3, 1, 4)[2];   // [2,3,9,12]
        var prev = randn(new long[] { 2, 3, 9, 12 }, generator: generator);
        var hostSums = zeros(new long[] { 2, 3, 1, 12 }, dtype: ScalarType.Float64);
        var referenceSums = zeros(new long[] { 2, 3, 1, 12 }, dtype: ScalarType.Float64);
        var start = 0;
        foreach (var n in new[] { 3, 1, 4, 1 })
        {
            var host = EllipticalMetric.EstimateStep(v.narrow(2, start, n), prev.narrow(2, start, n), hostSums);
            var reference = EllipticalMetric.EstimateStepWithTensorOps(v.narrow(2, start, n), prev.narrow(2, start, n), referenceSums, 1e-6);
            Assert.True(StatFormer.Tests.Training.TensorAssert.SameTensor(host, reference), $"positions {start}..{start + n - 1} differ");
            Assert.True(StatFormer.Tests.Training.TensorAssert.SameTensor(hostSums, referenceSums), $"running sums after position {start + n - 1} differ");
            start += n;
        }
        Assert.Throws<ArgumentException>(() => EllipticalMetric.EstimateStep(v.narrow(2, 0, 1), prev.narrow(2, 0, 1), zeros(new long[] { 2, 3, 12 }, dtype: ScalarType.Float64)));
    }
}
