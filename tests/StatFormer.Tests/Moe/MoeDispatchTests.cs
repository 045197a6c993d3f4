using StatFormer.Moe;
using TorchSharp;
using static StatFormer.Tests.Moe.MoeLayerReference;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

public class MoeDispatchTests
{
    [Fact]
    public void OneExpertTopOneIsTheDenseExpert()
    {
        torch.manual_seed(4);
        using var layer = new MoeFeedForward(6, MoeKind.Smoe, new MoeOptions { Experts = 1, TopK = 1, ExpertHidden = 10 }, causal: false);
        using var x = randn(2, 3, 6);
        var result = layer.forward(x, null);
        Assert.Equal(x.shape, result.Output.shape);
        using var expected = Expert(layer, 0, x);
        Assert.True(result.Output.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(0, result.DroppedAssignments);
    }

    [Theory]
    [InlineData(MoeKind.Smoe)]
    [InlineData(MoeKind.Xmoe)]
    public void TopTwoOfFourEqualsAPerTokenReferenceLoop(MoeKind kind)
    {
        torch.manual_seed(5);
        using var layer = new MoeFeedForward(5, kind, new MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 7, XmoeDim = 3 }, causal: false);
        using var x = randn(3, 4, 5);
        var result = layer.forward(x, null);

        using var tokens = x.reshape(-1, 5);
        using var logits = layer.Router.forward(tokens, null).Logits.detach();
        var expected = zeros(12, 5);
        for (var i = 0; i < 12; i++)
        {
            var row = logits[i].data<float>().ToArray();
            var top = Enumerable.Range(0, 4).OrderByDescending(e => row[e]).Take(2).ToArray();
            var z = top.Select(e => Math.Exp(row[e] - row[top[0]])).ToArray();
            Assert.Equal(top[0], result.Routing.TopIndices[i, 0].item<long>());
            Assert.Equal(top[1], result.Routing.TopIndices[i, 1].item<long>());
            for (var j = 0; j < 2; j++)
            {
                var gate = (float)(z[j] / z.Sum());
                Assert.Equal(gate, result.Routing.GateWeights[i, j].item<float>(), 5);
                expected[i] += gate * Expert(layer, top[j], tokens[i].unsqueeze(0)).squeeze(0);
            }
        }
        Assert.True(result.Output.reshape(12, 5).allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void GradientsReachExactlyTheSelectedExperts()
    {
        torch.manual_seed(6);
        using var layer = new MoeFeedForward(3, MoeKind.Smoe, new MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 5 }, causal: false);
        // Zero gate weights and biases (3, 2, 0, −1): every token picks experts 0 and 1.
        SetGate(layer, new float[12], new float[] { 3, 2, 0, -1 });
        using var x = randn(6, 3);
        var result = layer.forward(x, null);
        Assert.True(result.Routing.TopIndices.eq(tensor(new long[] { 0, 1 }).expand(6, 2)).all().item<bool>());
        result.Output.square().sum().backward();
        foreach (var p in new[] { layer.ExpertInputWeight, layer.ExpertInputBias, layer.OutputProjectionWeight, layer.ExpertOutputBias })
        {
            for (var e = 0; e < 4; e++)
            {
                var nonZero = p.grad![e].abs().sum().item<float>() > 0;
                Assert.Equal(e < 2, nonZero);
            }
        }
        // The router learns through the gate weights.
        Assert.True(((LinearRouter)layer.Router).Gate.bias!.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void CapacityKeepsTheHighestGatesPerExpert()
    {
        // d = 2, E = 2, k = 2, N = 4, factor 0.5 → capacity ceil(0.5·4·2/2) = 2 per expert.
        using var layer = new MoeFeedForward(2, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 2, ExpertHidden = 3, CapacityFactor = 0.5 }, causal: false);
        SetGate(layer, new float[] { 1, 0, 0, 1 }, new float[] { 0, 0 });          // logits = x
        using var x = tensor(new float[] { 0, 0, 2, 0, 0, 1, 1, 0 }).reshape(4, 2);
        var result = layer.forward(x, null);
        Assert.Equal(4, result.DroppedAssignments);
        // Gates on expert 0: 0.5, 0.88, 0.27, 0.73 → keeps tokens 1 and 3; expert 1: 0.5, 0.12, 0.73, 0.27 → tokens 2 and 0.
        using var gates = x.softmax(-1);
        var expected = zeros(4, 2);
        expected[0] = gates[0, 1] * Expert(layer, 1, x[0]);
        expected[1] = gates[1, 0] * Expert(layer, 0, x[1]);
        expected[2] = gates[2, 1] * Expert(layer, 1, x[2]);
        expected[3] = gates[3, 0] * Expert(layer, 0, x[3]);
        Assert.True(result.Output.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void CapacityBreaksTiesByTokenOrderAndDroppedTokensGetZero()
    {
        // Every token prefers expert 0 with the same gate (k = 1: p = e/(e+1)); capacity ceil(1·5·1/2) = 3.
        using var layer = new MoeFeedForward(2, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 3, CapacityFactor = 1.0 }, causal: false);
        SetGate(layer, new float[4], new float[] { 1, 0 });
        using var x = randn(5, 2);
        var result = layer.forward(x, null);
        Assert.Equal(2, result.DroppedAssignments);
        using var kept = Expert(layer, 0, x[..3]) * (float)(Math.E / (Math.E + 1));
        Assert.True(result.Output[..3].allclose(kept, rtol: 1e-5, atol: 1e-6));
        Assert.True(result.Output[3..].eq(0).all().item<bool>());
    }

    [Fact]
    public void NoCapacityLimitDropsNothing()
    {
        using var layer = new MoeFeedForward(2, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 3 }, causal: false);
        SetGate(layer, new float[4], new float[] { 1, 0 });
        using var x = randn(5, 2);
        var result = layer.forward(x, null);
        Assert.Equal(0, result.DroppedAssignments);
        Assert.True(result.Output.allclose(Expert(layer, 0, x) * (float)(Math.E / (Math.E + 1)), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void OutputsHaveTheDocumentedShapes()
    {
        torch.manual_seed(8);
        var options = new MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 6, XmoeDim = 3 };
        using var first = new MoeFeedForward(5, MoeKind.Xmoe, options, causal: false);
        using var second = new MoeFeedForward(5, MoeKind.AcXmoe, options, causal: false);
        using var x = randn(2, 3, 5);
        var one = first.forward(x, null);
        var two = second.forward(x + one.Output, one.Routing);
        Assert.Equal(new long[] { 2, 3, 5 }, two.Output.shape);
        Assert.Equal(new long[] { 6, 2 }, two.Routing.TopIndices.shape);
        Assert.Equal(ScalarType.Int64, two.Routing.TopIndices.dtype);
        Assert.Equal(new long[] { 6, 2 }, two.Routing.GateWeights.shape);
        Assert.Equal(new long[] { 6, 4 }, two.RouterLogits.shape);
        Assert.Equal(new long[] { 6, 3 }, two.RoutingFeatures.shape);
        Assert.False(two.RoutingFeatures.requires_grad);
        Assert.Equal(0, two.BalanceLoss.dim());
        Assert.True(two.Routing.GateWeights.sum(1).allclose(ones(6), rtol: 1e-5, atol: 1e-6));
    }
}
