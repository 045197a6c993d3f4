using StatFormer.Vision.Data;
using StatFormer.Vision.Robustness;
using TorchSharp;

namespace StatFormer.Tests.Vision.Robustness;

public sealed class ThreatAndOptionsTests
{
    [Fact]
    public void EpsilonListParsesFractionsAndDecimals()
    {
        var values = EpsilonList.Parse("1/255, 2/255,0.01,8 / 255");
        Assert.Equal(new[] { 1.0 / 255, 2.0 / 255, 0.01, 8.0 / 255 }, values);
    }

    [Theory]
    [InlineData("1/255,abc", "'abc'")]
    [InlineData("1/0", "'1/0'")]
    [InlineData("1/255,,2/255", "''")]
    [InlineData("1/2/3", "'1/2/3'")]
    public void EpsilonListErrorQuotesTheBadItem(string text, string quoted)
    {
        var e = Assert.Throws<ArgumentException>(() => EpsilonList.Parse(text));
        Assert.Contains(quoted, e.Message);
    }

    [Fact]
    public void DefaultOptionsAreValidAndFollowTheSpec()
    {
        var options = new AttackOptions();
        options.Validate();
        Assert.Equal(20, options.PgdSteps);
        Assert.Equal(0.15, options.PgdStepFraction);
        Assert.Equal(128, options.SpsaSamples);
        Assert.Equal(100, options.ApgdIterations);
        Assert.Equal(9, options.ApgdTargets);
        Assert.Equal(5000, options.SquareQueries);
        Assert.Equal(0.8, options.SquareInitialFraction);
        Assert.Equal(AttackLabels.True, options.Labels);
        Assert.False(options.NormalisedEpsilon);
    }

    public static TheoryData<AttackOptions, string> BadOptions => new()
    {
        { new AttackOptions { Attacks = Array.Empty<AttackKind>() }, nameof(AttackOptions.Attacks) },
        { new AttackOptions { Attacks = new[] { AttackKind.Pgd, AttackKind.Pgd } }, nameof(AttackOptions.Attacks) },
        { new AttackOptions { Epsilons = new[] { -0.1 } }, nameof(AttackOptions.Epsilons) },
        { new AttackOptions { Epsilons = new[] { 8.0 } }, nameof(AttackOptions.Epsilons) },
        { new AttackOptions { PgdSteps = 0 }, nameof(AttackOptions.PgdSteps) },
        { new AttackOptions { PgdStepFraction = 0 }, nameof(AttackOptions.PgdStepFraction) },
        { new AttackOptions { Restarts = 0 }, nameof(AttackOptions.Restarts) },
        { new AttackOptions { SpsaSamples = 0 }, nameof(AttackOptions.SpsaSamples) },
        { new AttackOptions { SpsaDelta = double.NaN }, nameof(AttackOptions.SpsaDelta) },
        { new AttackOptions { SquareInitialFraction = 1.5 }, nameof(AttackOptions.SquareInitialFraction) },
        { new AttackOptions { BatchSize = 0 }, nameof(AttackOptions.BatchSize) },
        { new AttackOptions { MaxImages = 0 }, nameof(AttackOptions.MaxImages) },
        { new AttackOptions { L2RadiusPerEpsilon = -1 }, nameof(AttackOptions.L2RadiusPerEpsilon) },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptionNamesItsProperty(AttackOptions options, string property)
    {
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(property, e.ParamName);
    }

    [Fact]
    public void NormalisedEpsilonAboveOneIsAccepted()
    {
        // 2 normalised units is about half the pixel range: legal in the authors' mode, rejected in pixel mode.
        new AttackOptions { Epsilons = new[] { 2.0 }, NormalisedEpsilon = true }.Validate();
        Assert.Throws<ArgumentException>(new AttackOptions { Epsilons = new[] { 2.0 } }.Validate);
    }

    [Fact]
    public void ThreatFollowsTheOptions()
    {
        var options = new AttackOptions { L2RadiusPerEpsilon = 16 };
        var pixel = ImageAttacks.Threat(AttackKind.Pgd, 8.0 / 255, options, ChannelNormalization.Cifar10);
        Assert.Equal(new ThreatModel(ThreatNorm.LInf, 8.0 / 255, null, true), pixel);
        var l2 = ImageAttacks.Threat(AttackKind.PgdL2, 8.0 / 255, options, ChannelNormalization.Cifar10);
        Assert.Equal(ThreatNorm.L2, l2.Norm);
        Assert.Equal(16 * 8.0 / 255, l2.Epsilon, 12);
        var normalised = ImageAttacks.Threat(AttackKind.Fgsm, 1.0 / 255, options with { NormalisedEpsilon = true }, ChannelNormalization.Cifar10);
        Assert.False(normalised.ClipToUnitRange);
        Assert.Equal(ChannelNormalization.Cifar10.Std, normalised.ChannelScale);
    }

    [Fact]
    public void LInfProjectionClampsEachChannelToItsBound()
    {
        using var clean = torch.full(new long[] { 1, 2, 1, 2 }, 0.5f);
        using var far = torch.tensor(new float[] { 0.9f, 0.1f, 0.52f, 0.3f }).reshape(1, 2, 1, 2);
        var threat = new ThreatModel(ThreatNorm.LInf, 0.1, new[] { 1.0, 0.5 }, ClipToUnitRange: false);
        using var projected = threat.Project(far, clean);
        // channel 0 bound 0.1, channel 1 bound 0.05
        Assert.Equal(new[] { 0.6f, 0.4f, 0.52f, 0.45f }, projected.data<float>().ToArray().Select(v => MathF.Round(v, 6)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LInfBoxClampIsTheProjection(bool clip)
    {
        using var generator = new torch.Generator(3);
        using var clean = torch.rand(4, 3, 5, 5, generator: generator);
        using var far = torch.rand(4, 3, 5, 5, generator: generator).mul_(1.6).sub_(0.3);
        var threat = new ThreatModel(ThreatNorm.LInf, 0.2, new[] { 0.5, 1.0, 2.0 }, clip);
        var (lower, upper) = threat.LInfBox(clean);
        using var boxed = far.clamp(lower, upper);
        using var projected = threat.Project(far, clean);
        Assert.True(boxed.allclose(projected, rtol: 0, atol: 1e-6));
        lower.Dispose();
        upper.Dispose();
    }

    [Fact]
    public void L2ProjectionScalesOntoTheSphereThenClips()
    {
        using var clean = torch.tensor(new float[] { 0.5f, 0.95f }).reshape(1, 1, 1, 2);
        using var far = torch.tensor(new float[] { 0.8f, 1.35f }).reshape(1, 1, 1, 2);   // δ = (0.3, 0.4), ‖δ‖ = 0.5
        var threat = new ThreatModel(ThreatNorm.L2, 0.1);
        using var projected = threat.Project(far, clean);
        var values = projected.data<float>().ToArray();
        Assert.Equal(0.56f, values[0], 5);     // 0.5 + 0.3/5
        Assert.Equal(1.0f, values[1], 5);      // 0.95 + 0.08, clipped to 1
        using var distance = threat.Distance(projected, clean);
        Assert.True(distance.item<float>() <= 0.1f + 1e-6f);
    }

    [Fact]
    public void L2StepMovesExactlyTheStepSizeInScaledUnits()
    {
        using var x = torch.zeros(1, 2, 1, 1);
        using var gradient = torch.tensor(new float[] { 3f, 4f }).reshape(1, 2, 1, 1);
        var threat = new ThreatModel(ThreatNorm.L2, 1, new[] { 2.0, 1.0 }, ClipToUnitRange: false);
        using var stepped = threat.Step(x, gradient, 0.5);
        using var distance = threat.Distance(stepped, x);
        Assert.Equal(0.5f, distance.item<float>(), 5);
    }
}
