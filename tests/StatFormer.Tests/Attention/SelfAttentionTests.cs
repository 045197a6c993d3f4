using StatFormer.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Attention;

public class SelfAttentionTests
{
    private const int DModel = 16;
    private const int Heads = 2;

    private static (SoftmaxSelfAttention Softmax, EllipticalSelfAttention Elliptical) SameWeights(EllipticalEstimator estimator, bool unscaled = false)
    {
        torch.manual_seed(7);
        var softmax = new SoftmaxSelfAttention(DModel, Heads, dropout: 0.0, causal: true);
        var elliptical = new EllipticalSelfAttention(DModel, Heads, dropout: 0.0, causal: true, estimator, unscaled);
        elliptical.load_state_dict(softmax.state_dict());
        return (softmax, elliptical);
    }

    [Theory]
    [InlineData(EllipticalEstimator.Causal)]
    [InlineData(EllipticalEstimator.Sequence)]
    public void EllipticalWithUnitMetricEqualsSoftmax(EllipticalEstimator estimator)
    {
        var (softmax, elliptical) = SameWeights(estimator);
        using var x = randn(2, 5, DModel);
        var reference = softmax.forward(x, null, null);
        // A constant shift of every value coordinate makes |ΔV| equal across coordinates, so m ≡ 1.
        using var previous = reference.Values - 0.5f;
        var result = elliptical.forward(x, previous, null);
        Assert.True(reference.Output.allclose(result.Output, rtol: 1e-5, atol: 1e-6));
        // And without previous values (the first layer) it is standard attention too.
        Assert.True(reference.Output.allclose(elliptical.forward(x, null, null).Output, rtol: 1e-5, atol: 1e-6));
    }

    public static IEnumerable<object[]> Configurations()
    {
        foreach (var estimator in new[] { EllipticalEstimator.Causal, EllipticalEstimator.Sequence })
            foreach (var padded in new[] { false, true })
                foreach (var unscaled in new[] { false, true })
                    yield return new object[] { estimator, padded, unscaled };
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void FusedAndExplicitPathsAgreeInValuesAndGradients(EllipticalEstimator estimator, bool padded, bool unscaled)
    {
        var (_, elliptical) = SameWeights(estimator, unscaled);
        using var x0 = randn(2, 6, DModel);
        using var previous = randn(2, Heads, 6, DModel / Heads);
        using var padding = padded ? tensor(new[] { false, false, false, false, true, true, false, false, false, false, false, true }).reshape(2, 6) : null;

        (Tensor Output, Tensor InputGrad, Tensor[] ParamGrads) Run(AttentionKernel kernel)
        {
            elliptical.Kernel = kernel;
            elliptical.zero_grad();
            var x = x0.clone().requires_grad_();
            var output = elliptical.forward(x, previous, padding).Output;
            // A fixed random projection of the output makes the gradient check non-trivial. Its own generator:
            // tests run in parallel and share torch's global one, so both kernels must get the same draw.
            var weights = randn(output.shape, generator: new Generator(3));
            (output * weights).sum().backward();
            return (output.detach(), x.grad!.clone(), elliptical.parameters().Select(p => p.grad!.clone()).ToArray());
        }

        var fused = Run(AttentionKernel.Fused);
        var explicitRun = Run(AttentionKernel.Explicit);
        Assert.True(fused.Output.allclose(explicitRun.Output, rtol: 1e-5, atol: 1e-5), "outputs differ");
        Assert.True(fused.InputGrad.allclose(explicitRun.InputGrad, rtol: 1e-5, atol: 1e-5), "input gradients differ");
        for (var i = 0; i < fused.ParamGrads.Length; i++)
            Assert.True(fused.ParamGrads[i].allclose(explicitRun.ParamGrads[i], rtol: 1e-5, atol: 1e-5), $"parameter gradient {i} differs");
    }

    // The unscaled layer itself is tested end to end in EllipticalLayerReferenceTests; this checks the kernel alone.
    [Fact]
    public void ExplicitKernelWithUnitScaleIsTheHandFormula()
    {
        torch.manual_seed(11);
        using var q = randn(1, 1, 4, 8);
        using var k = randn(1, 1, 4, 8);
        using var v = randn(1, 1, 4, 8);
        using var m = rand(1, 1, 1, 8);
        // Hand formula: softmax(q diag(m) kᵀ) v with no 1/√D, causal.
        using var scores = (q * m).matmul(k.transpose(-2, -1));
        using var masked = scores.masked_fill(ones(4, 4, dtype: ScalarType.Bool).tril().logical_not(), double.NegativeInfinity);
        using var expected = masked.softmax(-1).matmul(v);
        using var actual = ExplicitAttention.Compute(q, k, v, m, null, causal: true, scale: 1.0);
        Assert.True(expected.allclose(actual, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void NoGradientReachesThePreviousLayersValues()
    {
        var (_, elliptical) = SameWeights(EllipticalEstimator.Causal);
        using var x = randn(1, 4, DModel);
        using var previous = randn(1, Heads, 4, DModel / Heads).requires_grad_();
        elliptical.forward(x, previous, null).Output.sum().backward();
        Assert.Null(previous.grad);
    }

    [Fact]
    public void MetricIsReturnedPerHeadAndCoordinate()
    {
        var (softmax, elliptical) = SameWeights(EllipticalEstimator.Sequence);
        using var x = randn(2, 5, DModel);
        using var previous = randn(2, Heads, 5, DModel / Heads);
        var metric = elliptical.forward(x, previous, null).Metric!;
        Assert.Equal(new long[] { 2, Heads, 1, DModel / Heads }, metric.shape);
        var m = EllipticalMetric.MeanPerHead(metric);
        Assert.Equal(Heads * DModel / Heads, m.Length);
        foreach (var value in m) Assert.InRange(value, 0.0, 1.0);
        Assert.Null(softmax.forward(x, previous, null).Metric);
        Assert.Null(elliptical.forward(x, null, null).Metric);
    }
}
