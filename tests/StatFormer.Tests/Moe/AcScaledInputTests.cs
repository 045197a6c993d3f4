using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

/// <summary>
/// Where the AC-scaled token goes: the router only (the LM rule) or the router and the experts (the authors' Swin and Soft
/// MoE code). Checked against the layer written out by hand on a tiny input, forward and gradients.
/// </summary>
public class AcScaledInputTests
{
    private const int D = 4;
    private const int Experts = 3;

    private static MoeFeedForward Layer(AcScaledInput placement)
    {
        torch.manual_seed(21);
        var layer = new MoeFeedForward(D, MoeKind.AcSmoe, new MoeOptions
        {
            Experts = Experts, TopK = 2, ExpertHidden = 5, AcEstimator = AcEstimator.Batch, AcScaledInput = placement,
        }, causal: false);
        layer.eval();
        return layer;
    }

    /// <summary>Six tokens whose clusters (the previous top-1) are 0, 0, 1, 1, 2, 2, with different spreads per cluster and feature.</summary>
    private static (Tensor X, RoutingState Previous) Input()
    {
        var x = torch.tensor(new float[]
        {
            1.0f, 0.2f, -0.5f, 2.0f,
            1.4f, -0.1f, 0.9f, 2.1f,
            -0.3f, 1.5f, 0.0f, -1.0f,
            0.8f, 1.6f, 0.1f, 1.0f,
            0.5f, -2.0f, 1.2f, 0.3f,
            0.4f, 1.0f, -1.3f, 0.2f,
        }).reshape(6, D);
        var top = torch.tensor(new long[] { 0, 1, 0, 2, 1, 0, 1, 2, 2, 0, 2, 1 }).reshape(6, 2);
        var gates = torch.full(6, 2, 0.5f);
        return (x, new RoutingState(top, gates));
    }

    /// <summary>The layer by hand: w = AC weights of x's previous top-1 cluster; logits = gate(x ⊙ w); top-2 softmax gates; experts on <paramref name="expertsSeeScaled"/> ? x ⊙ w : x.</summary>
    private static Tensor ByHand(MoeFeedForward layer, Tensor x, RoutingState previous, bool expertsSeeScaled)
    {
        var labels = previous.TopIndices.select(1, 0);
        var w = AdaptiveClusteringWeights.Compute(x, labels, Experts).index_select(0, labels);
        var scaled = x * w;
        var gate = ((LinearRouter)((AdaptiveClusteringRouter)layer.Router).BaseRouter).Gate;
        var logits = scaled.matmul(gate.weight!.t()) + gate.bias!;
        var (top, chosen) = logits.topk(2, dim: 1);
        var g = top.softmax(1);
        var input = expertsSeeScaled ? scaled : x;
        var rows = new List<Tensor>();
        for (var i = 0; i < 6; i++)
        {
            var y = torch.zeros(D);
            for (var j = 0; j < 2; j++)
                y = y + g[i, j] * MoeLayerReference.Expert(layer, chosen[i, j].item<long>(), input[i]);
            rows.Add(y);
        }
        return torch.stack(rows);
    }

    [Theory]
    [InlineData(AcScaledInput.RouterAndExperts)]
    [InlineData(AcScaledInput.Router)]
    public void TheExpertsSeeTheScaledTokensOnlyWithTheImagePlacement(AcScaledInput placement)
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Layer(placement);
        var (x, previous) = Input();
        var leaf = x.clone().requires_grad_(true);
        var output = layer.forward(leaf, previous).Output;

        var handLeaf = x.clone().requires_grad_(true);
        var seesScaled = placement == AcScaledInput.RouterAndExperts;
        var expected = ByHand(layer, handLeaf, previous, seesScaled);
        Assert.True(torch.allclose(output, expected, rtol: 1e-5, atol: 1e-6), $"max |Δ| {(output - expected).abs().max().item<float>()}");
        // The other placement gives a different function on these tokens (their weights are far from 1).
        var other = ByHand(layer, x, previous, !seesScaled);
        Assert.True((output - other).abs().max().item<float>() > 1e-3);

        // Gradients flow to the tokens (through x ⊙ w, w a constant), the gate and the experts, as by hand.
        var probe = torch.randn(6, D, generator: new Generator(2));
        (output * probe).sum().backward();
        (expected * probe).sum().backward();
        Assert.True(torch.allclose(leaf.grad!, handLeaf.grad!, rtol: 1e-4, atol: 1e-6));
        Assert.True(leaf.grad!.abs().sum().item<float>() > 0);
        Assert.All(layer.parameters(), p => Assert.True(p.grad is { } g && g.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void TheLmKeepsTheRouterOnlyPlacementAndImageModelsDefaultToTheAuthors()
    {
        Assert.Equal(AcScaledInput.Router, new MoeOptions().AcScaledInput);
        Assert.Equal(AcScaledInput.RouterAndExperts, new StatFormer.Vision.Models.VisionModelOptions().Stack.Moe.Layer.AcScaledInput);
        Assert.Equal(AcScaledInput.Router, new StatFormer.Language.Models.LmConfig().Stack.Moe.Layer.AcScaledInput);
    }

    /// <summary>A base-router layer has no scaled tokens, so the placement changes nothing there.</summary>
    [Fact]
    public void ABaseRouterLayerIsTheSameUnderEitherPlacement()
    {
        using var scope = torch.NewDisposeScope();
        MoeFeedForward Build(AcScaledInput placement) =>
            new(D, MoeKind.Smoe, new MoeOptions { Experts = Experts, TopK = 2, ExpertHidden = 5, AcScaledInput = placement }, causal: false);
        using var a = Build(AcScaledInput.Router);
        using var b = Build(AcScaledInput.RouterAndExperts);
        using (torch.no_grad())
            foreach (var (source, target) in a.parameters().Zip(b.parameters())) target.copy_(source);
        var (x, _) = Input();
        Assert.Equal(0f, (a.forward(x, null).Output - b.forward(x, null).Output).abs().max().item<float>());
    }
}
