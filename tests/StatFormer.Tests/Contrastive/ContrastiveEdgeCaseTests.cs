using StatFormer.Contrastive;
using StatFormer.Options;
using TorchSharp;
using static StatFormer.Tests.Contrastive.ContrastiveTestData;
using static TorchSharp.torch;

namespace StatFormer.Tests.Contrastive;

/// <summary>No NaN or ∞ in any loss or gradient at the edges: extreme logits, identical z, tiny batches.</summary>
public class ContrastiveEdgeCaseTests
{
    public static TheoryData<string> AllLosses() => new()
    {
        "infonce", "fair-infonce", "cclk", "fare", "sparse-fare", "sparse-fare-dense", "sparse-fare-within", "sparse-fare-within-dense",
    };

    private static ContrastiveLoss Create(string name, ContrastiveLossOptions options, int dz = 3) => name switch
    {
        "sparse-fare-dense" => ContrastiveLossFactory.Create(ContrastiveMethod.SparseFare, options with { Implementation = SparseFareImplementation.DenseMasked }, dz),
        "sparse-fare-within" => ContrastiveLossFactory.Create(ContrastiveMethod.SparseFare, options with { Variant = SparseFareVariant.WithinBucket, ChunkSize = 2 }, dz),
        "sparse-fare-within-dense" => ContrastiveLossFactory.Create(ContrastiveMethod.SparseFare,
            options with { Variant = SparseFareVariant.WithinBucket, Implementation = SparseFareImplementation.DenseMasked }, dz),
        _ => ContrastiveLossFactory.Create(EnumNames.Parse<ContrastiveMethod>(name), options, dz),
    };

    private static double CheckFinite(ContrastiveLoss loss, Tensor v1, Tensor v2, SensitiveBatch sensitive)
    {
        using var scope = torch.NewDisposeScope();
        var x = v1.detach().clone().requires_grad_();
        var y = v2.detach().clone().requires_grad_();
        var value = loss.forward(x, y, sensitive);
        value.backward();
        AssertFinite(value, "loss");
        AssertFinite(x.grad!, "d/dview1");
        AssertFinite(y.grad!, "d/dview2");
        foreach (var (name, p) in loss.named_parameters())
            if (p.grad is not null) AssertFinite(p.grad, $"d/d{name}");
        return value.item<float>();
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void ExtremeLogitsFromIdenticalViewsAtTauOneHundredth(string name)
    {
        using var loss = Create(name, new ContrastiveLossOptions { Temperature = 0.01 });
        using var v = Rows(View1);
        // Identical views: every positive is 100 = 1/τ, and samples 0 and 3 are nearly parallel (also ≈ 100).
        var value = CheckFinite(loss, v, v, Sensitive(Z, Groups));
        Assert.True(value >= 0);
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void IdenticalSensitiveAttributes(string name)
    {
        using var loss = Create(name, new ContrastiveLossOptions());
        double[][] z = { [0.3, -0.2, 1.0], [0.3, -0.2, 1.0], [0.3, -0.2, 1.0], [0.3, -0.2, 1.0] };
        CheckFinite(loss, Rows(View1), Rows(View2), Sensitive(z, [1, 1, 1, 1]));
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void ZeroSensitiveAttributes(string name)
    {
        using var loss = Create(name, new ContrastiveLossOptions { Kernel = CclkKernel.Cosine });
        CheckFinite(loss, Rows(View1), Rows(View2), Sensitive([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]));
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void BatchOfOneHasNoNegativesAndZeroLoss(string name)
    {
        using var loss = Create(name, new ContrastiveLossOptions());
        Assert.Equal(0.0, CheckFinite(loss, Rows(View1[..1]), Rows(View2[..1]), Sensitive(Z[..1])), 6);
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void BatchOfTwo(string name)
    {
        using var loss = Create(name, new ContrastiveLossOptions { Temperature = 0.01 });
        CheckFinite(loss, Rows(View1[..2]), Rows(View2[..2]), Sensitive(Z[..2], [0, 0]));
    }

    [Fact]
    public void BatchOfOneWithThePositiveIncluded()
    {
        using var loss = new FareLoss(3, new ContrastiveLossOptions { IncludePositive = true, NegativeScale = FareNegativeScale.One });
        // The only "negative" is the positive itself with weight 1: log(e^p + e^p) − p = log 2 for both sides.
        Assert.Equal(Math.Log(2), CheckFinite(loss, Rows(View1[..1]), Rows(View2[..1]), Sensitive(Z[..1])), 5);
    }

    [Fact]
    public void MismatchedShapesAreRejectedWithTheArgumentNamed()
    {
        using var loss = new FareLoss(3, new ContrastiveLossOptions());
        var error = Assert.Throws<ArgumentException>(() => loss.forward(Rows(View1), Rows(View2[..3]), Sensitive(Z)));
        Assert.Contains("view2", error.Message);
        error = Assert.Throws<ArgumentException>(() => loss.forward(Rows(View1), Rows(View2), Sensitive(Z[..3])));
        Assert.Contains("sensitive.Features", error.Message);
        error = Assert.Throws<ArgumentException>(() => loss.forward(Rows(View1), Rows(View2), Sensitive(Z.Select(r => r[..2]).ToArray())));
        Assert.Contains("d_z", error.Message);
        using var fair = new FairInfoNceLoss();
        error = Assert.Throws<ArgumentException>(() => fair.forward(Rows(View1), Rows(View2), new SensitiveBatch(Rows(Z), tensor(new long[] { 0, 1 }))));
        Assert.Contains("sensitive.Groups", error.Message);
    }
}
