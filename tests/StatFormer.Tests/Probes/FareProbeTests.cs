using StatFormer.Contrastive;
using StatFormer.Probes.Fare;

namespace StatFormer.Tests.Probes;

/// <summary>In the training collection: the probe seeds libtorch's global generator, which tests running alongside would draw from.</summary>
[Collection(StatFormer.Tests.Training.TrainingTestCollection.Name)]
public sealed class FareProbeTests
{
    [Fact]
    public void TheInputCarriesTheClassPatternAndTheScaledAttribute()
    {
        var patterns = LeakyAttributeGenerator.ClassPatterns(new Random(1), classes: 3, features: 8);
        var s = LeakyAttributeGenerator.Sample(new Random(2), patterns, groups: 4, count: 20000, classScale: 0.5, leak: 3.0);
        // z: unit vectors at the group's angle (up to the jitter).
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(1.0, Math.Sqrt(s.Sensitive[2 * i] * s.Sensitive[2 * i] + s.Sensitive[2 * i + 1] * s.Sensitive[2 * i + 1]), 1e-5);
            var angle = Math.Atan2(s.Sensitive[2 * i + 1], s.Sensitive[2 * i]);
            var expected = 2 * Math.PI * s.Groups[i] / 4;
            var gap = Math.Abs(Math.IEEERemainder(angle - expected, 2 * Math.PI));
            Assert.True(gap < 6 * LeakyAttributeGenerator.AngleJitter, $"angle {angle}, group {s.Groups[i]}");
        }
        // x − (class pattern, leak·z) is unit noise, and the class is independent of the group.
        var residuals = new List<double>();
        for (var i = 0; i < s.Count; i++)
        {
            for (var q = 0; q < 6; q++) residuals.Add(s.Inputs[i * 8 + q] - 0.5 * patterns[s.Classes[i]][q]);
            residuals.Add(s.Inputs[i * 8 + 6] - 3.0 * s.Sensitive[2 * i]);
            residuals.Add(s.Inputs[i * 8 + 7] - 3.0 * s.Sensitive[2 * i + 1]);
        }
        Assert.InRange(residuals.Average(), -0.02, 0.02);
        Assert.InRange(Math.Sqrt(residuals.Average(r => r * r)), 0.98, 1.02);
        for (var c = 0; c < 3; c++)
            for (var g = 0; g < 4; g++)
                Assert.InRange(Enumerable.Range(0, s.Count).Count(i => s.Classes[i] == c && s.Groups[i] == g) / (double)s.Count, 1 / 12.0 - 0.01, 1 / 12.0 + 0.01);
    }

    [Fact]
    public void TheIdealAttentionIsUniformOverTheOtherMembersOfTheGroup()
    {
        var p = LeakyAttributeGenerator.IdealAttention([0, 1, 0, 0, 2]);
        Assert.Equal(new double[] { 0, 0, 0.5, 0.5, 0 }, Enumerable.Range(0, 5).Select(j => p[0, j]));
        Assert.Equal(new double[] { 0, 0, 0, 0, 0 }, Enumerable.Range(0, 5).Select(j => p[1, j]));  // alone in its group
        Assert.Equal(new double[] { 0.5, 0, 0, 0.5, 0 }, Enumerable.Range(0, 5).Select(j => p[2, j]));
    }

    /// <summary>FARE's attention at its W = I start, with a near-zero temperature, is the nearest-z attention: all its mass on the own group.</summary>
    [Fact]
    public void ASharpKernelAttentionIsTheIdealOne()
    {
        var patterns = LeakyAttributeGenerator.ClassPatterns(new Random(3), 2, 4);
        var s = LeakyAttributeGenerator.Sample(new Random(4), patterns, 4, 64, 0.5, 3.0);
        using var fare = new FareLoss(2, new ContrastiveLossOptions { AttentionTemperature = 1e-3 });
        var fit = FareProbe.AttentionFit(fare, s, 64);
        Assert.Equal(1.0, fit.SameGroupMass, 1e-6);
        Assert.InRange(fit.UniformSameGroupMass, 0.1, 0.4);
        using var wide = new FareLoss(2, new ContrastiveLossOptions { AttentionTemperature = 1e3 });
        var flat = FareProbe.AttentionFit(wide, s, 64);
        Assert.Equal(flat.UniformSameGroupMass, flat.SameGroupMass, 1e-3);
        Assert.True(flat.KlToIdeal > fit.KlToIdeal);
    }

    [Fact]
    public void ATinyProbeIsDeterministicAndComplete()
    {
        var options = new FareProbeOptions
        {
            Features = 6, Hidden = 8, Representation = 4, Steps = 3, BatchSize = 16, TrainSamples = 64, TestSamples = 32, Seeds = 2,
            Methods = [ContrastiveMethod.InfoNce, ContrastiveMethod.Fare],
        };
        var first = FareProbe.Run(options);
        var second = FareProbe.Run(options);
        Assert.Equal(4, first.Runs.Count);
        Assert.All(first.Runs.Zip(second.Runs), p => Assert.Equal(p.First.GroupAccuracy, p.Second.GroupAccuracy, 1e-6));
        Assert.All(first.Runs, r => Assert.Equal(r.Method == ContrastiveMethod.Fare, r.Attention is not null));
        var fare = first.Methods.Single(m => m.Method == ContrastiveMethod.Fare);
        var pairs = first.Runs.GroupBy(r => r.Seed).Select(g => g.Single(r => r.Method == ContrastiveMethod.InfoNce).GroupAccuracy - g.Single(r => r.Method == ContrastiveMethod.Fare).GroupAccuracy);
        Assert.Equal(pairs.Average(), fare.BiasRemoved!.Mean, 10);
        Assert.Null(first.Methods.Single(m => m.Method == ContrastiveMethod.InfoNce).BiasRemoved);
        Assert.NotNull(first.KlDecrease);
    }

    [Theory]
    [InlineData("BatchSize")]
    [InlineData("Methods")]
    [InlineData("CorruptionRate")]
    public void BadOptionsNameTheirProperty(string property)
    {
        var options = property switch
        {
            "BatchSize" => new FareProbeOptions { BatchSize = 4096 },
            "Methods" => new FareProbeOptions { Methods = [ContrastiveMethod.Fare, ContrastiveMethod.Fare] },
            _ => new FareProbeOptions { CorruptionRate = 1.0 },
        };
        Assert.Equal(property, Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }
}
