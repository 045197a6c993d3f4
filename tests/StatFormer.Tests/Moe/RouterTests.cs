using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

public class RouterTests
{
    [Theory]
    [InlineData(MoeKind.Smoe)]
    [InlineData(MoeKind.Xmoe)]
    public void TopColumnIsTheArgmaxAndColumnsAreSorted(MoeKind kind)
    {
        torch.manual_seed(9);
        using var layer = new MoeFeedForward(8, kind, new MoeOptions { Experts = 6, TopK = 3, ExpertHidden = 4 }, causal: false);
        using var x = randn(40, 8);
        var result = layer.forward(x, null);
        Assert.True(result.Routing.TopIndices.select(1, 0).eq(result.RouterLogits.argmax(1)).all().item<bool>());
        using var chosen = result.RouterLogits.detach().gather(1, result.Routing.TopIndices);
        Assert.True(chosen[.., ..^1].ge(chosen[.., 1..]).all().item<bool>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CosineLogitsByHand(bool learnable)
    {
        using var router = new CosineRouter(2, 2, routingDim: 2, temperature: 0.5, learnableTemperature: learnable);
        using (torch.no_grad())
        {
            router.Projection.weight!.copy_(eye(2));
            router.ExpertEmbeddings.copy_(tensor(new float[] { 1, 0, 1, 1 }).reshape(2, 2));
        }
        using var x = tensor(new float[] { 3, 4, 0, -2 }).reshape(2, 2);
        var output = router.forward(x, null);
        // Token 0 → (0.6, 0.8): cos with (1,0) = 0.6, with (1,1)/√2 = 1.4/√2; token 1 → (0,−1): 0 and −1/√2. Divided by τ = 0.5.
        var s = (float)Math.Sqrt(2);
        using var expected = tensor(new[] { 1.2f, 2.8f / s, 0f, -2f / s }).reshape(2, 2);
        Assert.True(output.Logits.allclose(expected, rtol: 1e-5, atol: 1e-6));
        using var features = tensor(new[] { 0.6f, 0.8f, 0f, -1f }).reshape(2, 2);
        Assert.True(output.RoutingFeatures.allclose(features, rtol: 1e-5, atol: 1e-6));
        Assert.False(output.RoutingFeatures.requires_grad);
        Assert.Equal(0.5, router.Temperature, 5);
        Assert.Equal(learnable, router.LogTemperature is not null);
        if (learnable)
        {
            output.Logits.sum().backward();
            Assert.NotNull(router.LogTemperature!.grad);
        }
    }

    [Fact]
    public void LinearRouterScoresTheInputItself()
    {
        using var router = new LinearRouter(3, 2);
        using var x = randn(4, 3);
        var output = router.forward(x, null);
        using var expected = x.matmul(router.Gate.weight!.t()) + router.Gate.bias!;
        Assert.True(output.Logits.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(output.RoutingFeatures.allclose(x, rtol: 0, atol: 0));
        Assert.False(router.NeedsPreviousRouting);
    }
}
