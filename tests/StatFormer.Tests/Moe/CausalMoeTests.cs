using StatFormer.Moe;
using TorchSharp;
using TorchSharp.Modules;
using static StatFormer.Tests.Moe.MoeLayerReference;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

/// <summary>The Switch gate for k = 1, causal capacity and the running AC estimator, at the layer level.</summary>
public class CausalMoeTests
{
    private static Parameter RouterWeight(Router router) => router switch
    {
        LinearRouter linear => linear.Gate.weight!,
        CosineRouter cosine => cosine.Projection.weight!,
        AdaptiveClusteringRouter ac => RouterWeight(ac.BaseRouter),
        _ => throw new ArgumentException(router.GetType().Name),
    };

    [Theory]
    [InlineData(MoeKind.Smoe, 1)]
    [InlineData(MoeKind.Smoe, 2)]
    [InlineData(MoeKind.Smoe, 4)]
    [InlineData(MoeKind.Xmoe, 1)]
    [InlineData(MoeKind.Xmoe, 2)]
    [InlineData(MoeKind.AcSmoe, 1)]
    [InlineData(MoeKind.AcXmoe, 1)]
    public void TheRouterLearnsFromTheTaskLossForEveryK(MoeKind kind, int k)
    {
        torch.manual_seed(21);
        var options = new MoeOptions { Experts = 4, TopK = k, ExpertHidden = 6, XmoeDim = 3 };
        using var first = new MoeFeedForward(5, MoeKindNames.BaseOf(kind), options, causal: true);
        using var layer = new MoeFeedForward(5, kind, options, causal: true);
        using var x = randn(2, 6, 5);
        var previous = first.forward(x, null).Routing;
        var result = layer.forward(x, MoeKindNames.IsAdaptive(kind) ? previous : null);
        // The task loss only: no balance loss, which would give the router a gradient of its own.
        (result.Output * randn(2, 6, 5, generator: new Generator(1))).sum().backward();
        var grad = RouterWeight(layer.Router).grad;
        Assert.NotNull(grad);
        Assert.True(grad!.abs().sum().item<float>() > 1e-6f, $"{kind}, k = {k}: the router got no gradient from the task loss");
    }

    [Fact]
    public void TopOneGateIsTheFullSoftmaxProbabilityOfTheChosenExpert()
    {
        torch.manual_seed(22);
        using var layer = new MoeFeedForward(3, MoeKind.Smoe, new MoeOptions { Experts = 3, TopK = 1, ExpertHidden = 4 }, causal: false);
        using var x = randn(5, 3);
        var result = layer.forward(x, null);
        using var probabilities = layer.Router.forward(x, null).Logits.softmax(-1);
        for (var i = 0; i < 5; i++)
        {
            var e = result.Routing.TopIndices[i, 0].item<long>();
            Assert.Equal(probabilities[i].argmax().item<long>(), e);
            var p = probabilities[i, e].item<float>();
            Assert.Equal(p, result.Routing.GateWeights[i, 0].item<float>(), 6);
            Assert.True(result.Output[i].allclose(Expert(layer, e, x[i]) * p, rtol: 1e-5, atol: 1e-6));
        }
    }

    [Fact]
    public void CausalCapacityIsFirstComeFirstServedPerSequence()
    {
        // E = 2, k = 1, T = 4, factor 1 → capacity ceil(1·4·1/2) = 2 per expert and sequence. Logits = x:
        // sequence 0 sends positions 0, 1, 3 to expert 0 and 2 to expert 1 → position 3 dropped;
        // sequence 1 sends everything to expert 1 → positions 2, 3 dropped, even though their gates are the highest.
        using var layer = new MoeFeedForward(2, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 3, CapacityFactor = 1.0 }, causal: true);
        SetGate(layer, new float[] { 1, 0, 0, 1 }, new float[] { 0, 0 });
        using var x = tensor(new float[]
        {
            1, 0,   2, 0,   0, 1,   3, 0,
            0, 1,   0, 2,   0, 3,   0, 4,
        }).reshape(2, 4, 2);
        var result = layer.forward(x, null);
        Assert.Equal(3, result.DroppedAssignments);
        using var gates = x.softmax(-1);
        var expected = zeros(2, 4, 2);
        foreach (var (b, t, e) in new[] { (0, 0, 0), (0, 1, 0), (0, 2, 1), (1, 0, 1), (1, 1, 1) })
            expected[b, t] = gates[b, t, e] * Expert(layer, e, x[b, t]);
        Assert.True(result.Output.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void CausalCapacityNeverLooksAhead()
    {
        torch.manual_seed(23);
        var options = new MoeOptions { Experts = 3, TopK = 2, ExpertHidden = 4, CapacityFactor = 0.6 };
        using var causal = new MoeFeedForward(4, MoeKind.Smoe, options, causal: true);
        using var x = randn(3, 8, 4);
        using var edited = x.clone();
        edited[1, 5] = randn(4) * 3;                      // change one later token

        (float Before, float Elsewhere) Change(MoeFeedForward layer)
        {
            using var noGrad = torch.no_grad();
            var a = layer.forward(x, null);
            var b = layer.forward(edited, null);
            Assert.True(a.DroppedAssignments > 0, "precondition: the capacity must bind");
            var diff = (a.Output - b.Output).abs();
            return (diff[1, ..5].max().item<float>(), torch.cat(new[] { diff[0], diff[2] }, 0).max().item<float>());
        }

        var (before, elsewhere) = Change(causal);
        Assert.Equal(0f, before);
        Assert.Equal(0f, elsewhere);
    }

    [Fact]
    public void BatchCapacityLetsALaterTokenDisplaceAnEarlierOne()
    {
        // Non-causal (gate priority over the batch), logits = x, E = 2, k = 1, capacity ceil(1·4·1/2) = 2:
        // everything goes to expert 0, which keeps the two highest gates. Raising the last token's gate
        // drops the first token, which the causal rule would have kept.
        using var layer = new MoeFeedForward(2, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 3, CapacityFactor = 1.0 }, causal: false);
        SetGate(layer, new float[] { 1, 0, 0, 1 }, new float[] { 0, 0 });
        using var x = tensor(new float[] { 1, 0, 2, 0, 0.5f, 0, 0.2f, 0 }).reshape(1, 4, 2);
        using var edited = tensor(new float[] { 1, 0, 2, 0, 0.5f, 0, 5, 0 }).reshape(1, 4, 2);
        using var noGrad = torch.no_grad();
        Assert.True(layer.forward(x, null).Output[0, 0].abs().sum().item<float>() > 0);
        Assert.True(layer.forward(edited, null).Output[0, 0].eq(0).all().item<bool>());
    }

    [Fact]
    public void ACausalLayerRejectsFlatTokens()
    {
        using var layer = new MoeFeedForward(4, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 3 }, causal: true);
        var error = Assert.Throws<ArgumentException>(() => layer.forward(randn(6, 4), null));
        Assert.Contains("[B,T,d]", error.Message);
    }

    private static RoutingState Labels(params long[] top1) =>
        new(tensor(top1).reshape(-1, 1), ones(top1.Length, 1));

    [Fact]
    public void RunningStatisticsStartNeutralThenFollowACountWeightedAverage()
    {
        torch.manual_seed(24);
        using var router = new AdaptiveClusteringRouter(2, MoeKind.Smoe, new MoeOptions { Experts = 3, TopK = 1, ExpertHidden = 4, AcMomentum = 0.25 });
        Assert.Equal(AcEstimator.Running, router.Estimator);
        router.train();
        using var x1 = tensor(new float[] { 0, 5, 1, 5, 2, 5, 0, 1, 0, 2, 3, 3 }).reshape(6, 2);
        var first = Labels(0, 0, 0, 2, 2, 2);

        // Before any update every weight is 1: the first batch is routed exactly like the base router.
        using var w0 = router.TokenWeights(x1, first);
        Assert.True(w0.eq(1).all().item<bool>());
        Assert.True(router.forward(x1, first).Logits.allclose(router.BaseRouter.forward(x1, null).Logits, rtol: 0, atol: 1e-6));

        // The first update copies the batch: counts (3, 0, 3), n·MAD = 3 × ((2/3, 0), (0, 0), (4/3, 2/3)).
        Assert.True(router.RunningCount.allclose(tensor(new float[] { 3, 0, 3 }), rtol: 0, atol: 1e-6));
        Assert.True(router.RunningDeviation.allclose(tensor(new float[] { 2, 0, 0, 0, 4, 2 }).reshape(3, 2), rtol: 0, atol: 1e-5));

        // Second batch: two tokens of cluster 1 at (1, 1) and (3, 5) → counts (0, 2, 0), n·MAD = 2 × (1, 2).
        using var x2 = tensor(new float[] { 1, 1, 3, 5 }).reshape(2, 2);
        router.forward(x2, Labels(1, 1));
        Assert.True(router.RunningCount.allclose(tensor(new float[] { 0.75f * 3, 0.25f * 2, 0.75f * 3 }), rtol: 0, atol: 1e-6));
        Assert.True(router.RunningDeviation.allclose(tensor(new float[] { 1.5f, 0, 0.5f, 1, 3, 1.5f }).reshape(3, 2), rtol: 0, atol: 1e-5));

        // The weights now come from those averages (MAD = deviation / count), not from the batch routed.
        using var expected = AdaptiveClusteringWeights.FromStatistics(router.RunningCount, router.RunningDeviation / router.RunningCount.unsqueeze(1));
        using var fromBatch = AdaptiveClusteringWeights.Compute(x1, first.TopIndices.select(1, 0), 3);
        using var w = router.TokenWeights(x1, first);
        Assert.True(w.allclose(expected.index_select(0, first.TopIndices.select(1, 0)), rtol: 1e-6, atol: 0));
        Assert.False(w.allclose(fromBatch.index_select(0, first.TopIndices.select(1, 0)), rtol: 1e-3, atol: 0));
    }

    [Fact]
    public void RunningStatisticsAreFrozenInEvaluation()
    {
        using var router = new AdaptiveClusteringRouter(2, MoeKind.Smoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 4 });
        router.train();
        using var x = randn(6, 2);
        router.forward(x, Labels(0, 0, 0, 1, 1, 1));
        using var count = router.RunningCount.clone();
        using var deviation = router.RunningDeviation.clone();
        router.eval();
        router.forward(randn(4, 2) * 5, Labels(0, 1, 1, 1));
        Assert.True(router.RunningCount.eq(count).all().item<bool>());
        Assert.True(router.RunningDeviation.eq(deviation).all().item<bool>());
    }

    [Fact]
    public void RunningStatisticsAreBuffersThatTravelWithTheStateDict()
    {
        using var router = new AdaptiveClusteringRouter(3, MoeKind.Xmoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 4, XmoeDim = 2 });
        var buffers = router.named_buffers().Select(b => b.name).ToList();
        Assert.Contains("running_count", buffers);
        Assert.Contains("running_deviation", buffers);
        Assert.DoesNotContain(router.named_parameters(), p => p.name.StartsWith("running"));
        router.train();
        router.forward(randn(5, 3), Labels(0, 1, 1, 0, 1));
        using var copy = new AdaptiveClusteringRouter(3, MoeKind.Xmoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 4, XmoeDim = 2 });
        copy.load_state_dict(router.state_dict());
        Assert.True(copy.RunningCount.eq(router.RunningCount).all().item<bool>());
        Assert.True(copy.RunningDeviation.eq(router.RunningDeviation).all().item<bool>());
    }
}
