using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

public class AdaptiveClusteringTests
{
    // Six tokens in d = 2, clusters {0: tokens 0-2, 1: empty, 2: tokens 3-5}.
    private static Tensor HandTokens() => tensor(new float[]
    {
        0, 5,
        1, 5,
        2, 5,
        0, 1,
        0, 2,
        3, 3,
    }).reshape(6, 2);

    private static Tensor HandLabels() => tensor(new long[] { 0, 0, 0, 2, 2, 2 });

    [Fact]
    public void WeightsFollowTheFormulaWithShrinkageClippingAndANeutralEmptyCluster()
    {
        const double eps = 1e-4, clipMultiple = 2;
        using var x = HandTokens();
        using var labels = HandLabels();
        using var w = AdaptiveClusteringWeights.Compute(x, labels, 3, eps, clipMultiple);

        // Cluster 0: feature 0 is {0,1,2} (mean 1, MAD 2/3), feature 1 is {5,5,5} (MAD 0).
        // Cluster 2: feature 0 is {0,0,3} (mean 1, MAD 4/3), feature 1 is {1,2,3} (mean 2, MAD 2/3).
        // Pooled spread (3 tokens each): feature 0 (2/3 + 4/3)/2 = 1, feature 1 (0 + 2/3)/2 = 1/3.
        // Shrunk with κ = 1: (3·MAD + pooled)/4, floored at pooled/10 (not binding here: 1/12 > 1/30).
        Assert.Equal(1.0, AdaptiveClusteringWeights.PriorTokens);
        Assert.Equal(0.1, AdaptiveClusteringWeights.MinRelativeSpread);
        double[,] shrunk =
        {
            { (3 * 2.0 / 3 + 1) / 4, (3 * 0.0 + 1.0 / 3) / 4 },      // 3/4, 1/12
            { (3 * 4.0 / 3 + 1) / 4, (3 * 2.0 / 3 + 1.0 / 3) / 4 },  // 5/4, 7/12
        };
        var raw = new double[2, 2];
        for (var k = 0; k < 2; k++)
            for (var q = 0; q < 2; q++)
                raw[k, q] = 1 / (shrunk[k, q] + eps);
        var clipAt = clipMultiple * (raw[0, 0] + raw[0, 1] + raw[1, 0] + raw[1, 1]) / 4;   // ≈ 7.92
        Assert.True(raw[0, 1] > clipAt, "the hand case must exercise the clip");
        var clipped = new double[2, 2];
        for (var k = 0; k < 2; k++)
            for (var q = 0; q < 2; q++)
                clipped[k, q] = Math.Min(raw[k, q], clipAt);
        double[] featureMean = { (clipped[0, 0] + clipped[1, 0]) / 2, (clipped[0, 1] + clipped[1, 1]) / 2 };
        double[,] expected =
        {
            { clipped[0, 0] / featureMean[0], clipped[0, 1] / featureMean[1] },
            { 1, 1 },
            { clipped[1, 0] / featureMean[0], clipped[1, 1] / featureMean[1] },
        };

        Assert.Equal(new long[] { 3, 2 }, w.shape);
        Assert.False(w.requires_grad);
        var actual = w.data<float>().ToArray();
        for (var k = 0; k < 3; k++)
            for (var q = 0; q < 2; q++)
                Assert.True(Math.Abs(actual[k * 2 + q] - expected[k, q]) <= 1e-5 * Math.Max(1, Math.Abs(expected[k, q])),
                    $"W[{k},{q}] = {actual[k * 2 + q]}, expected {expected[k, q]}");
        // Sanity of the hand numbers themselves: feature 0 of cluster 0 (5/4 vs 3/4 after shrinkage) is tighter than cluster 2's.
        Assert.Equal(1.25, expected[0, 0], 3);
    }

    [Fact]
    public void GlobalNormalisationDividesByTheMeanOverEveryPopulatedClusterAndFeature()
    {
        const double eps = 0.35, clipMultiple = 1.5;     // the authors' Soft MoE ε with the Swin clip: both bind here
        using var x = HandTokens();
        using var labels = HandLabels();
        using var w = AdaptiveClusteringWeights.Compute(x, labels, 3, eps, clipMultiple, AcNormalisation.Global);

        // Shrunk spreads as in the per-feature case: cluster 0 (3/4, 1/12), cluster 2 (5/4, 7/12).
        double[] raw = { 1 / (0.75 + eps), 1 / (1.0 / 12 + eps), 1 / (1.25 + eps), 1 / (7.0 / 12 + eps) };
        var clipAt = clipMultiple * raw.Average();
        Assert.True(raw[1] > clipAt, "the hand case must exercise the clip");
        var clipped = raw.Select(v => Math.Min(v, clipAt)).ToArray();
        var mean = clipped.Average();
        double[] expected = { clipped[0] / mean, clipped[1] / mean, 1, 1, clipped[2] / mean, clipped[3] / mean };

        var actual = w.data<float>().ToArray();
        for (var i = 0; i < 6; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"W[{i / 2},{i % 2}] = {actual[i]}, expected {expected[i]}");
        // Unlike the per-feature rule, feature 1 (tight in both clusters) now weighs more than feature 0 in every cluster.
        Assert.True(actual[1] > actual[0] && actual[5] > actual[4], $"feature 1 should be amplified: {string.Join(", ", actual)}");
        Assert.Equal(1.0, (actual[0] + actual[1] + actual[4] + actual[5]) / 4, 5);
    }

    /// <summary>Two clusters of 40 Gaussian tokens (d = 4) with different spreads per feature, plus optional extra tokens.</summary>
    private static (Tensor X, Tensor Labels) TwoClusters(Generator generator)
    {
        var a = torch.randn(40, 4, generator: generator) * tensor(new float[] { 1, 2, 0.5f, 1 });
        var b = torch.randn(40, 4, generator: generator) * tensor(new float[] { 2, 1, 1, 0.5f }) + 3;
        return (torch.cat(new[] { a, b }, 0), torch.cat(new[] { zeros(40, dtype: ScalarType.Int64), ones(40, dtype: ScalarType.Int64) }, 0));
    }

    [Fact]
    public void AOneTokenClusterDoesNotCollapseTheOtherClustersWeights()
    {
        using var scope = torch.NewDisposeScope();
        var (x, labels) = TwoClusters(new Generator(11));
        var reference = AdaptiveClusteringWeights.Compute(x, labels, 3);
        // Cluster 2 gets a single token: its MAD is 0 on every feature (w would be 1/ε = 1e4 without shrinkage).
        var withSingleton = AdaptiveClusteringWeights.Compute(
            torch.cat(new[] { x, tensor(new float[] { 0.3f, -1, 2, 0 }).reshape(1, 4) }, 0),
            torch.cat(new[] { labels, tensor(new long[] { 2 }) }, 0), 3);
        var ratio = withSingleton[..2] / reference[..2];
        Assert.True(ratio.min().item<float>() > 0.5f && ratio.max().item<float>() < 2f,
            $"the populated clusters' weights moved by a factor {ratio.min().item<float>()}..{ratio.max().item<float>()}");
        // The singleton sits near the pooled spread: no feature more than twice the average weight.
        Assert.True(withSingleton[2].max().item<float>() < 2f, $"singleton weights {withSingleton[2].max().item<float>()}");
    }

    [Fact]
    public void AFeatureConstantWithinOneClusterIsCappedAndLeavesTheOtherFeaturesAlone()
    {
        using var scope = torch.NewDisposeScope();
        var (x, labels) = TwoClusters(new Generator(12));
        var reference = AdaptiveClusteringWeights.Compute(x, labels, 2);
        var constant = x.clone();
        constant[..40, 0] = 1.5f;                                   // cluster 0 is exactly tight along feature 0
        var w = AdaptiveClusteringWeights.Compute(constant, labels, 2);
        Assert.True(w[0, 0].item<float>() > w[1, 0].item<float>(), "the tight cluster must weight the feature most");
        Assert.True(w[1, 0].item<float>() > 0.05f, $"the other cluster's weight on that feature collapsed to {w[1, 0].item<float>()}");
        var ratio = w[.., 1..] / reference[.., 1..];
        Assert.True(ratio.min().item<float>() > 0.5f && ratio.max().item<float>() < 2f,
            $"other features' weights moved by a factor {ratio.min().item<float>()}..{ratio.max().item<float>()}");
    }

    [Fact]
    public void EmptyClustersDoNotChangeThePopulatedClustersWeights()
    {
        using var x = HandTokens();
        using var withEmpty = AdaptiveClusteringWeights.Compute(x, HandLabels(), 4, 1e-4, 2);    // clusters 1 and 3 empty
        using var compact = AdaptiveClusteringWeights.Compute(x, tensor(new long[] { 0, 0, 0, 1, 1, 1 }), 2, 1e-4, 2);
        Assert.True(withEmpty[0].allclose(compact[0], rtol: 1e-6, atol: 0));
        Assert.True(withEmpty[2].allclose(compact[1], rtol: 1e-6, atol: 0));
        Assert.True(withEmpty[1].eq(1).all().item<bool>());
        Assert.True(withEmpty[3].eq(1).all().item<bool>());
    }

    [Fact]
    public void NoGradientThroughTheWeights()
    {
        using var x = HandTokens().requires_grad_();
        using var labels = HandLabels();
        using var w = AdaptiveClusteringWeights.Compute(x, labels, 3);
        Assert.False(w.requires_grad);
        using var perToken = w.index_select(0, labels);
        (x * perToken).sum().backward();
        Assert.True(x.grad!.allclose(perToken, rtol: 0, atol: 0));
    }

    [Fact]
    public void LabelsOutOfRangeAreRejected()
    {
        using var x = HandTokens();
        var error = Assert.Throws<ArgumentException>(() => AdaptiveClusteringWeights.Compute(x, HandLabels(), 2));
        Assert.Contains("[0, 2)", error.Message);
    }

    [Fact]
    public void NegativeLabelsAreRejected()
    {
        using var x = HandTokens();
        var error = Assert.Throws<ArgumentException>(() => AdaptiveClusteringWeights.Compute(x, tensor(new long[] { 0, 0, -1, 2, 2, 2 }), 3));
        Assert.Contains("found label -1", error.Message);
    }

    [Theory]
    [InlineData(64, 8)]   // a whole number of SIMD vectors per row
    [InlineData(13, 5)]   // a remainder after the vectors
    public void HostClusterSumsEqualTheTensorOpsBitForBit(int d, int clusters)
    {
        torch.manual_seed(d);
        // Transposed storage (not contiguous), an empty last cluster, int32 labels: the host path must make all of them plain.
        using var x = (randn(d, 700) * 3 + 1).t();
        using var labels = randint(0, clusters - 1, new long[] { 700 }).to(ScalarType.Int32);
        var (counts, sums) = AdaptiveClusteringWeights.ClusterDeviationSums(x, labels, clusters);
        var (tensorCounts, tensorSums) = AdaptiveClusteringWeights.TensorClusterDeviationSums(x, labels, clusters);
        Assert.True(counts.eq(tensorCounts).all().item<bool>());
        Assert.True(sums.eq(tensorSums).all().item<bool>(), $"max difference {(sums - tensorSums).abs().max().item<float>()}");
        Assert.Equal(0f, counts[clusters - 1].item<float>());
        Assert.True(sums[clusters - 1].eq(0).all().item<bool>());
    }

    [Fact]
    public void DeviationSumsGiveTheHandSpreads()
    {
        // The hand case of the first test: counts (3, 0, 3), n·MAD = 3 × ((2/3, 0), (0, 0), (4/3, 2/3)).
        using var x = HandTokens();
        var (counts, sums) = AdaptiveClusteringWeights.ClusterDeviationSums(x, HandLabels(), 3);
        Assert.True(counts.eq(tensor(new float[] { 3, 0, 3 })).all().item<bool>());
        Assert.True(sums.allclose(tensor(new float[] { 2, 0, 0, 0, 4, 2 }).reshape(3, 2), rtol: 0, atol: 1e-6));
        using var fromSums = AdaptiveClusteringWeights.FromDeviationSums(counts, sums, 0.35, 5, AcNormalisation.Global);
        using var fromSpreads = AdaptiveClusteringWeights.FromStatistics(counts, sums / counts.clamp_min(1).unsqueeze(1), 0.35, 5, AcNormalisation.Global);
        Assert.True(fromSums.eq(fromSpreads).all().item<bool>());
    }

    private static RoutingState Previous(long[] top, int k, float[]? gates = null) =>
        new(tensor(top).reshape(-1, k), gates is null ? full(top.Length / k, k, 1.0f / k) : tensor(gates).reshape(-1, k));

    [Theory]
    [InlineData(MoeKind.Smoe)]
    [InlineData(MoeKind.Xmoe)]
    public void OneClusterGivesUnitWeightsAndTheBaseRoutersLogits(MoeKind baseKind)
    {
        torch.manual_seed(1);
        using var router = new AdaptiveClusteringRouter(6, baseKind, new MoeOptions { Experts = 3, TopK = 2, ExpertHidden = 4, XmoeDim = 4, AcEstimator = AcEstimator.Batch });
        using var x = randn(5, 6);
        // Every token's previous top-1 is expert 2: one cluster, so every weight is exactly 1.
        var previous = Previous(new long[] { 2, 0, 2, 1, 2, 0, 2, 1, 2, 0 }, 2);
        using var weights = router.TokenWeights(x, previous);
        Assert.True(weights.allclose(ones_like(weights), rtol: 0, atol: 1e-6));
        var ac = router.forward(x, previous);
        var plain = router.BaseRouter.forward(x, null);
        Assert.True(ac.Logits.allclose(plain.Logits, rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(MoeKind.Smoe)]
    [InlineData(MoeKind.Xmoe)]
    public void RoutesTheScaledTokensAndPassesGradientOnlyThroughTheScaling(MoeKind baseKind)
    {
        torch.manual_seed(2);
        using var router = new AdaptiveClusteringRouter(4, baseKind, new MoeOptions { Experts = 3, TopK = 1, ExpertHidden = 4, XmoeDim = 3, AcEstimator = AcEstimator.Batch });
        using var x0 = randn(8, 4);
        var previous = Previous(new long[] { 0, 1, 2, 0, 1, 2, 0, 0 }, 1);
        using var labels = previous.TopIndices.select(1, 0);
        using var w = AdaptiveClusteringWeights.Compute(x0, labels, 3).index_select(0, labels);
        Assert.False(w.allclose(ones_like(w), rtol: 0, atol: 1e-3), "the weights should be non-trivial here");
        using var upstream = randn(8, 3);

        using var x = x0.clone().requires_grad_();
        router.zero_grad();
        var logits = router.forward(x, previous).Logits;
        (logits * upstream).sum().backward();

        using var scaled = (x0 * w).requires_grad_();
        var reference = router.BaseRouter.forward(scaled, null).Logits;
        Assert.True(logits.allclose(reference, rtol: 1e-5, atol: 1e-6));
        (reference * upstream).sum().backward();
        // d/dx of f(x ⊙ W) with W constant is W ⊙ f'(x ⊙ W).
        Assert.True(x.grad!.allclose(scaled.grad! * w, rtol: 1e-5, atol: 1e-6));
        Assert.All(router.BaseRouter.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void MixedWeightsAreTheGateWeightedRowsOfThePreviousClusters()
    {
        using var router = new AdaptiveClusteringRouter(2, MoeKind.Smoe, new MoeOptions { Experts = 3, TopK = 2, ExpertHidden = 4, AcMixTopK = true, AcEstimator = AcEstimator.Batch });
        using var x = HandTokens();
        var gates = new[] { 0.7f, 0.3f, 0.6f, 0.4f, 0.9f, 0.1f, 0.5f, 0.5f, 0.8f, 0.2f, 0.55f, 0.45f };
        var previous = Previous(new long[] { 0, 1, 0, 2, 0, 1, 2, 0, 2, 1, 2, 0 }, 2, gates);
        using var w = AdaptiveClusteringWeights.Compute(x, HandLabels(), 3);
        var expected = zeros(6, 2);
        for (var i = 0; i < 6; i++)
            for (var j = 0; j < 2; j++)
                expected[i] += gates[i * 2 + j] * w[previous.TopIndices[i, j].item<long>()];
        using var actual = router.TokenWeights(x, previous);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(AcEstimator.Batch)]
    [InlineData(AcEstimator.Running)]
    public void TheRouterAppliesTheNormalisationItIsGiven(AcEstimator estimator)
    {
        using var router = new AdaptiveClusteringRouter(2, MoeKind.Smoe, new MoeOptions
        {
            Experts = 3, TopK = 1, ExpertHidden = 4, AcEstimator = estimator, AcMomentum = 1, AcEpsilon = 0.35, AcClipMultiple = 5,
            AcNormalisation = AcNormalisation.Global,
        });
        using var x = HandTokens();
        var previous = Previous(new long[] { 0, 0, 0, 2, 2, 2 }, 1);
        if (estimator == AcEstimator.Running)
        {
            router.train();
            router.forward(x, previous);      // momentum 1: the running statistics are this batch's
            router.eval();
        }
        using var expected = AdaptiveClusteringWeights.Compute(x, HandLabels(), 3, 0.35, 5, AcNormalisation.Global).index_select(0, HandLabels());
        using var perFeature = AdaptiveClusteringWeights.Compute(x, HandLabels(), 3, 0.35, 5).index_select(0, HandLabels());
        Assert.False(expected.allclose(perFeature, rtol: 1e-3, atol: 1e-3), "the two normalisations must differ on this case");
        using var actual = router.TokenWeights(x, previous);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6), $"{actual.str()} vs {expected.str()}");
    }

    [Fact]
    public void AcRouterWithoutPreviousRoutingSaysWhy()
    {
        using var router = new AdaptiveClusteringRouter(4, MoeKind.Xmoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 4 });
        Assert.True(router.NeedsPreviousRouting);
        using var x = randn(3, 4);
        var error = Assert.Throws<InvalidOperationException>(() => router.forward(x, null));
        Assert.Contains("the first MoE layer must use the base router", error.Message);

        using var layer = new MoeFeedForward(4, MoeKind.AcSmoe, new MoeOptions { Experts = 2, TopK = 1, ExpertHidden = 4 }, causal: false);
        Assert.Throws<InvalidOperationException>(() => layer.forward(x, null));
    }

    [Fact]
    public void SecondLayerGradientsDoNotReachTheFirstLayersRouterThroughTheRouting()
    {
        torch.manual_seed(3);
        var options = new MoeOptions { Experts = 4, TopK = 2, ExpertHidden = 8, AcEstimator = AcEstimator.Batch };
        using var first = new MoeFeedForward(6, MoeKind.Smoe, options, causal: false);
        using var second = new MoeFeedForward(6, MoeKind.AcSmoe, options, causal: false);
        using var x = randn(2, 5, 6);
        var routing = first.forward(x, null).Routing;
        var output = second.forward(x, routing);
        (output.Output.square().sum() + output.BalanceLoss).backward();
        Assert.All(first.parameters(), p => Assert.True(p.grad is null || p.grad.eq(0).all().item<bool>()));
        Assert.All(second.Router.parameters(), p => Assert.NotNull(p.grad));
    }
}
