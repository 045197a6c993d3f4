using StatFormer.Contrastive;
using TorchSharp;
using static StatFormer.Tests.Contrastive.ContrastiveTestData;
using static TorchSharp.torch;
using Ref = StatFormer.Tests.Contrastive.ContrastiveReference;

namespace StatFormer.Tests.Contrastive;

/// <summary>Each loss on the hand-written 4-sample batch against the plain-double reference.</summary>
public class LossHandComputationTests
{
    private static double Evaluate(ContrastiveLoss loss, double[][] v1, double[][] v2, double[][] z, long[]? groups = null)
    {
        using var scope = torch.NewDisposeScope();
        var value = loss.forward(Rows(v1), Rows(v2), Sensitive(z, groups));
        Assert.Empty(value.shape);
        return value.item<float>();
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void InfoNceIsNtXentOverTwoBViews(double tau)
    {
        using var loss = new InfoNceLoss(tau);
        AssertClose(Ref.InfoNce(View1, View2, tau), Evaluate(loss, View1, View2, Z));
    }

    [Fact]
    public void InfoNceOnTwoSamplesByHand()
    {
        // u1 = (1,0), (0,1); u2 = (1,0), (0,1); τ = 1. Anchor x_0: positive cos 1, negatives x_1 (0), y_1 (0):
        // −log(e/(e+2)); the same for every one of the 4 anchors by symmetry.
        using var loss = new InfoNceLoss(1.0);
        double[][] v = { [1, 0], [0, 1] };
        AssertClose(-Math.Log(Math.E / (Math.E + 2)), Evaluate(loss, v, v, [[0.0], [1.0]]));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void FairInfoNceKeepsOnlySameGroupNegatives(double tau)
    {
        using var loss = new FairInfoNceLoss(tau);
        var expected = ContrastiveReference.InfoNce(View1, View2, tau, Groups);
        AssertClose(expected, Evaluate(loss, View1, View2, Z, Groups));
        // One group for all samples gives InfoNCE back.
        AssertClose(ContrastiveReference.InfoNce(View1, View2, tau), Evaluate(loss, View1, View2, Z, [7, 7, 7, 7]));
        if (tau == 0.5) Assert.True(Math.Abs(expected - ContrastiveReference.InfoNce(View1, View2, tau)) > 1e-3, "the groups made no difference");
    }

    [Fact]
    public void FairInfoNceWithEveryoneAloneIsZero()
    {
        // No anchor has a same-group negative: every term is −log(e^pos/e^pos) = 0.
        using var loss = new FairInfoNceLoss(0.1);
        AssertClose(0.0, Evaluate(loss, View1, View2, Z, [0, 1, 2, 3]), 1e-6);
    }

    [Theory]
    [InlineData(CclkKernel.Cosine, "cosine", 0.01, 1.0)]
    [InlineData(CclkKernel.Cosine, "cosine", 0.5, 1.0)]
    [InlineData(CclkKernel.Rbf, "rbf", 0.1, 1.0)]
    [InlineData(CclkKernel.Linear, "linear", 0.5, 2.0)]
    [InlineData(CclkKernel.Polynomial, "polynomial", 0.5, 4.0)]
    [InlineData(CclkKernel.Laplacian, "laplacian", 0.1, 0.5)]
    public void CclkIsTheWeacInfonceForm(CclkKernel kernel, string name, double lambda, double kernelTemperature)
    {
        var weights = Ref.CclkWeights(Z, name, lambda, kernelTemperature);
        // The float32 solve must not flip an entry across the 1e-6 floor, and the case must have real weights.
        foreach (var w in weights) Assert.True(w == 0 || w > 1e-4, $"weight {w} too close to the floor for a float32 test");
        Assert.Contains(weights.Cast<double>(), w => w > 0);
        using var loss = new CclkLoss(new ContrastiveLossOptions { Kernel = kernel, Lambda = lambda, KernelTemperature = kernelTemperature, Temperature = 0.2 });
        AssertClose(Ref.Cclk(View1, View2, Z, name, lambda, kernelTemperature, 0.2), Evaluate(loss, View1, View2, Z), 2e-5);
    }

    [Fact]
    public void CclkWeightsMatchTheReference()
    {
        using var loss = new CclkLoss(new ContrastiveLossOptions { Kernel = CclkKernel.Rbf, Lambda = 0.1 });
        using var z = Rows(Z);
        using var w = loss.ConditionalWeights(z);
        AssertTensorsClose(Matrix(Ref.CclkWeights(Z, "rbf", 0.1, 1.0)), w, 1e-5, "W");
        Assert.False(w.requires_grad);
    }

    [Fact]
    public void FareWithIdentityProjectionsIsTheGaussianKernelWeighting()
    {
        using var loss = new FareLoss(3, new ContrastiveLossOptions());
        // Fresh module: W_Q = W_K = I, ρ = √3, c_neg = B − 1, positive masked, z L2-normalised.
        AssertTensorsClose(eye(3), loss.QueryProjection, 0, "W_Q");
        AssertTensorsClose(eye(3), loss.KeyProjection, 0, "W_K");
        var zn = Z.Select(Ref.Normalize).ToArray();
        var rho = Math.Sqrt(3);
        var p = new double[4, 4];
        for (var i = 0; i < 4; i++)
        {
            var sum = Enumerable.Range(0, 4).Where(j => j != i).Sum(j => Math.Exp(Ref.Dot(zn[i], zn[j]) / rho));
            for (var j = 0; j < 4; j++) p[i, j] = j == i ? 0 : Math.Exp(Ref.Dot(zn[i], zn[j]) / rho) / sum;
        }
        AssertClose(Ref.Fare(View1, View2, p, 0.1, 3, sameView: false), Evaluate(loss, View1, View2, Z));
    }

    [Theory]
    [InlineData(false, FareNegativeScale.BatchMinusOne, true, false, 0.0)]
    [InlineData(true, FareNegativeScale.BatchMinusOne, true, false, 0.0)]
    [InlineData(false, FareNegativeScale.One, false, false, 0.7)]
    [InlineData(false, FareNegativeScale.BatchMinusOne, true, true, 0.0)]
    [InlineData(true, FareNegativeScale.One, false, true, 2.0)]
    public void FareWithLearnedProjectionsMatchesTheReference(bool includePositive, FareNegativeScale scale, bool normalize, bool sameView, double rho)
    {
        var options = new ContrastiveLossOptions
        {
            AttentionDim = 2, AttentionTemperature = rho, IncludePositive = includePositive, NegativeScale = scale,
            NormalizeSensitive = normalize, SameViewNegatives = sameView, Temperature = 0.3,
        };
        using var loss = new FareLoss(3, options);
        double[,] wq = { { 0.5, -1.0 }, { 1.5, 0.2 }, { -0.3, 0.8 } };
        double[,] wk = { { 1.0, 0.4 }, { -0.6, 1.1 }, { 0.9, -0.2 } };
        SetProjections(loss, wq, wk);
        var p = Ref.Attention(Z, wq, wk, rho == 0 ? Math.Sqrt(2) : rho, normalize, (i, j) => includePositive || i != j);
        var expected = Ref.Fare(View1, View2, p, 0.3, scale == FareNegativeScale.One ? 1 : 3, sameView);
        AssertClose(expected, Evaluate(loss, View1, View2, Z));
    }

    [Fact]
    public void FareProjectionsAreRegisteredParametersThatGetGradients()
    {
        using var loss = new FareLoss(3, new ContrastiveLossOptions());
        Assert.Equal(new[] { "query_projection", "key_projection" }, loss.named_parameters().Select(p => p.name).ToArray());
        using var scope = torch.NewDisposeScope();
        loss.forward(Rows(View1), Rows(View2), Sensitive(Z)).backward();
        Assert.True(loss.QueryProjection.grad is not null && loss.QueryProjection.grad.abs().sum().item<float>() > 0);
        Assert.True(loss.KeyProjection.grad is not null && loss.KeyProjection.grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void WiderAttentionStartsSemiOrthogonalSoTheLogitsAreStillZiZj()
    {
        using var loss = new FareLoss(3, new ContrastiveLossOptions { AttentionDim = 5 });
        using var scope = torch.NewDisposeScope();
        AssertTensorsClose(eye(3), loss.QueryProjection.matmul(loss.QueryProjection.t()), 1e-5, "W Wᵀ");
        AssertTensorsClose(loss.QueryProjection, loss.KeyProjection, 0, "W_K");
        Assert.Equal(Math.Sqrt(5), loss.AttentionTemperature, 12);
    }
}
