using StatFormer.Moe;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

public class LoadBalanceLossTests
{
    [Fact]
    public void HandExample()
    {
        // Row 0: softmax(ln2, 0, 0) = (0.5, 0.25, 0.25); row 1: softmax(0, 0, ln3) = (0.2, 0.2, 0.6).
        using var logits = tensor(new[] { (float)Math.Log(2), 0f, 0f, 0f, 0f, (float)Math.Log(3) }).reshape(2, 3);
        using var top = tensor(new long[] { 0, 1, 2, 0 }).reshape(2, 2);
        // f = (2,1,1)/4; p = (0.35, 0.225, 0.425); L = 3 · (0.5·0.35 + 0.25·0.225 + 0.25·0.425) = 1.0125.
        using var loss = LoadBalanceLoss.Compute(logits, top, 3);
        Assert.Equal(0, loss.dim());
        Assert.Equal(1.0125, loss.item<float>(), 5);
    }

    [Fact]
    public void UniformRoutingGivesOneAndSkewedMore()
    {
        using var uniformLogits = zeros(2, 4);
        using var balanced = tensor(new long[] { 0, 1, 2, 3 }).reshape(2, 2);
        Assert.Equal(1.0, LoadBalanceLoss.Compute(uniformLogits, balanced, 4).item<float>(), 6);

        using var skewedLogits = tensor(new float[] { 5, 4, 0, 0, 5, 4, 0, 0 }).reshape(2, 4);
        using var skewed = tensor(new long[] { 0, 1, 0, 1 }).reshape(2, 2);
        Assert.True(LoadBalanceLoss.Compute(skewedLogits, skewed, 4).item<float>() > 1.5f);
    }

    [Fact]
    public void TheLossCanFallBelowOne()
    {
        // Three tokens, E = 2, top-1: two barely choose expert 0 (p₀ = 0.5025), one firmly expert 1 (p₀ ≈ 4.5e-5).
        // f = (2/3, 1/3), p = (0.33502, 0.66498) → L = 2·(2/3·0.33502 + 1/3·0.66498) ≈ 0.890 < 1.
        using var logits = tensor(new float[] { 0.01f, 0, 0.01f, 0, -10, 0 }).reshape(3, 2);
        using var top = tensor(new long[] { 0, 0, 1 }).reshape(3, 1);
        var p0 = (2 / (1 + Math.Exp(-0.01)) + 1 / (1 + Math.Exp(10))) / 3;
        var expected = 2 * (2.0 / 3 * p0 + 1.0 / 3 * (1 - p0));
        Assert.Equal(expected, LoadBalanceLoss.Compute(logits, top, 2).item<float>(), 5);
        Assert.True(expected < 0.9);
    }

    [Fact]
    public void GradientFlowsThroughTheProbabilitiesOnly()
    {
        using var logits = tensor(new float[] { 1, 0, 0, 2, 0, 1 }).reshape(2, 3).requires_grad_();
        using var top = tensor(new long[] { 0, 1 }).reshape(2, 1);
        LoadBalanceLoss.Compute(logits, top, 3).backward();
        // dL/dp_e = E·f_e/N with f = (0.5, 0.5, 0), then through each row's softmax Jacobian.
        using var p = logits.detach().softmax(-1);
        using var upstream = tensor(new float[] { 0.75f, 0.75f, 0f }).unsqueeze(0);
        using var expected = p * (upstream - (p * upstream).sum(1, keepdim: true));
        Assert.True(logits.grad!.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }
}
