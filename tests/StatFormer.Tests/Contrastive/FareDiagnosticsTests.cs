using StatFormer.Contrastive;
using static StatFormer.Tests.Contrastive.ContrastiveTestData;
using Ref = StatFormer.Tests.Contrastive.ContrastiveReference;

namespace StatFormer.Tests.Contrastive;

public class FareDiagnosticsTests
{
    // Two tight clusters of colour: {0,1} near +x, {2,3} near −x.
    private static readonly double[][] Clusters = { [1.0, 0.1, 0.0], [0.9, -0.1, 0.1], [-1.0, 0.0, 0.1], [-0.8, 0.2, -0.1] };

    private static (double Entropy, double Uniform, double Attended, double UniformDistance) ByHand(double[,] p)
    {
        double entropy = 0, attended = 0, uniform = 0;
        for (var i = 0; i < 4; i++)
            for (var j = 0; j < 4; j++)
            {
                if (j == i) continue;
                entropy -= p[i, j] * Math.Log(p[i, j]) / 4;
                attended += p[i, j] * Ref.Distance(Clusters[i], Clusters[j]) / 4;
                uniform += Ref.Distance(Clusters[i], Clusters[j]) / 3 / 4;
            }
        return (entropy, Math.Log(3), attended, uniform);
    }

    [Fact]
    public void AttentionThatPrefersSimilarZHasRatioBelowOne()
    {
        // W_Q = W_K = I, ρ = 0.2: the attention is a sharp Gaussian kernel on the normalised z.
        using var loss = new FareLoss(3, new ContrastiveLossOptions { AttentionTemperature = 0.2 });
        var diagnostics = loss.Diagnose(Sensitive(Clusters));
        var p = Ref.Attention(Clusters, Identity(3), Identity(3), 0.2, normalize: true, (i, j) => i != j);
        var (entropy, uniformEntropy, attended, uniform) = ByHand(p);
        AssertClose(entropy, diagnostics.MeanEntropy, what: "entropy");
        AssertClose(uniformEntropy, diagnostics.UniformEntropy, what: "uniform entropy");
        AssertClose(attended, diagnostics.AttendedDistance, what: "attended distance");
        AssertClose(uniform, diagnostics.UniformDistance, what: "uniform distance");
        AssertClose(attended / uniform, diagnostics.DistanceRatio, what: "ratio");
        Assert.True(diagnostics.DistanceRatio < 0.6, $"ratio {diagnostics.DistanceRatio}");
        Assert.True(diagnostics.MeanEntropy < diagnostics.UniformEntropy);
        Assert.Equal(3.0, diagnostics.MeanSupportSize);
        Assert.Equal(0, diagnostics.EmptySupportRows);
    }

    [Fact]
    public void AttentionTurnedAgainstTheIntentHasRatioAboveOne()
    {
        // W_K = −I: the attention now prefers the most dissimilar z (spec Q8's failure mode).
        using var loss = new FareLoss(3, new ContrastiveLossOptions { AttentionTemperature = 0.2 });
        var minusIdentity = new double[3, 3];
        for (var i = 0; i < 3; i++) minusIdentity[i, i] = -1;
        SetProjections(loss, Identity(3), minusIdentity);
        var diagnostics = loss.Diagnose(Sensitive(Clusters));
        Assert.True(diagnostics.DistanceRatio > 1.2, $"ratio {diagnostics.DistanceRatio}");
    }

    [Fact]
    public void DiagnoseComputesNoGradient()
    {
        using var loss = new FareLoss(3, new ContrastiveLossOptions());
        loss.Diagnose(Sensitive(Clusters));
        Assert.Null(loss.QueryProjection.grad);
    }
}
