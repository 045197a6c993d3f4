using StatFormer.Attention;
using StatFormer.Probes.Elliptical;
using StatFormer.Reporting;

namespace StatFormer.Tests.Probes;

/// <summary>In the training collection: the probe seeds libtorch's global generator, which tests running alongside would draw from.</summary>
[Collection(StatFormer.Tests.Training.TrainingTestCollection.Name)]
public sealed class EllipticalProbeTests
{
    [Fact]
    public void TheGeneratorsValuesAreItsFunctionPlusItsNoise()
    {
        var rng = new Random(3);
        var s = KernelRegressionGenerator.Sample(rng, keyDim: 6, pairs: 400, relevant: 2, noise: 0.0, contamination: 0.0);
        Assert.Equal(2, s.Relevant.Count(r => r));
        for (var i = 0; i < s.Pairs; i++)
        {
            Assert.Equal(s.Function(s.Angles.AsSpan(i * 6, 6)), s.Values[i], 1e-5);
            for (var d = 0; d < 6; d++)
            {
                Assert.Equal(Math.Cos(s.Angles[i * 6 + d]), s.Features[i * 12 + 2 * d], 1e-5);
                Assert.Equal(Math.Sin(s.Angles[i * 6 + d]), s.Features[i * 12 + 2 * d + 1], 1e-5);
            }
        }
        Assert.Equal(s.Function(s.QueryAngles), s.Target, 10);

        var noisy = KernelRegressionGenerator.Sample(new Random(4), 6, 4000, 2, noise: 0.5, contamination: 0.0);
        var residuals = Enumerable.Range(0, noisy.Pairs).Select(i => noisy.Values[i] - noisy.Function(noisy.Angles.AsSpan(i * 6, 6))).ToList();
        var sd = Math.Sqrt(residuals.Average(r => r * r));
        Assert.InRange(sd, 0.47, 0.53);
    }

    [Fact]
    public void TheFunctionIsFlatAlongTheIrrelevantCoordinates()
    {
        var s = KernelRegressionGenerator.Sample(new Random(5), keyDim: 5, pairs: 8, relevant: 2, noise: 0.1, contamination: 0.0);
        var angles = s.QueryAngles.ToArray();
        var before = s.Function(angles);
        for (var d = 0; d < 5; d++)
        {
            var moved = angles.ToArray();
            moved[d] += 1.3f;
            if (s.Relevant[d]) Assert.NotEqual(before, s.Function(moved), 6);
            else Assert.Equal(before, s.Function(moved), 12);
        }
    }

    /// <summary>The relevance it reports is E|∂f/∂θ_d|: compared with a Monte-Carlo finite-difference estimate.</summary>
    [Fact]
    public void TheReportedRelevanceIsTheMeanAbsoluteSlope()
    {
        var s = KernelRegressionGenerator.Sample(new Random(6), keyDim: 4, pairs: 2, relevant: 3, noise: 0, contamination: 0);
        var rng = new Random(7);
        const double h = 1e-3;
        for (var d = 0; d < 4; d++)
        {
            var sum = 0.0;
            const int draws = 20000;
            for (var i = 0; i < draws; i++)
            {
                var angles = Enumerable.Range(0, 4).Select(_ => (float)(Math.PI * (2 * rng.NextDouble() - 1))).ToArray();
                var up = angles.ToArray();
                var down = angles.ToArray();
                up[d] += (float)h;
                down[d] -= (float)h;
                sum += Math.Abs(s.Function(up) - s.Function(down)) / (up[d] - down[d]);
            }
            Assert.Equal(s.Relevance[d], sum / draws, 0.015);
            Assert.Equal(s.Relevant[d], s.Relevance[d] > 0);
        }
    }

    [Fact]
    public void ContaminationReplacesOnlyIrrelevantFeaturesAndKeepsValuesCorrect()
    {
        var s = KernelRegressionGenerator.Sample(new Random(8), keyDim: 4, pairs: 2000, relevant: 1, noise: 0, contamination: 0.25);
        var share = s.Contaminated.Count(c => c) / 2000.0;
        Assert.InRange(share, 0.22, 0.28);
        for (var i = 0; i < s.Pairs; i++)
        {
            Assert.Equal(s.Function(s.Angles.AsSpan(i * 4, 4)), s.Values[i], 1e-5);
            for (var d = 0; d < 4; d++)
            {
                var norm = Math.Sqrt(Math.Pow(s.Features[i * 8 + 2 * d], 2) + Math.Pow(s.Features[i * 8 + 2 * d + 1], 2));
                var expected = s.Contaminated[i] && !s.Relevant[d] ? KernelRegressionGenerator.OutlierScale : 1.0;
                Assert.Equal(expected, norm, 1e-4);
            }
        }
    }

    [Fact]
    public void NadarayaWatsonIsTheKernelWeightedMean()
    {
        var s = KernelRegressionGenerator.Sample(new Random(9), keyDim: 3, pairs: 50, relevant: 1, noise: 0.2, contamination: 0);
        // A very wide kernel is the plain mean of the values.
        Assert.Equal(s.Values.Average(), NadarayaWatson.Estimate(s, NadarayaWatson.Spherical(s), 1e4), 1e-4);
        // A very narrow one is the value of the nearest key in the metric.
        var nearest = Enumerable.Range(0, 50).MinBy(j => Enumerable.Range(0, 6).Sum(c => Math.Pow(s.QueryFeatures[c] - s.Features[j * 6 + c], 2)));
        Assert.Equal(s.Values[nearest], NadarayaWatson.Estimate(s, NadarayaWatson.Spherical(s), 1e-3), 1e-4);
        // The ideal ellipse ignores the flat coordinates: the nearest key along the relevant one.
        var relevant = Array.IndexOf(s.Relevant, true);
        var nearestAlong = Enumerable.Range(0, 50).MinBy(j => Math.Pow(s.QueryFeatures[2 * relevant] - s.Features[j * 6 + 2 * relevant], 2) + Math.Pow(s.QueryFeatures[2 * relevant + 1] - s.Features[j * 6 + 2 * relevant + 1], 2));
        Assert.Equal(s.Values[nearestAlong], NadarayaWatson.Estimate(s, NadarayaWatson.IdealEllipse(s), 1e-3), 1e-4);
    }

    /// <summary>The theory's premise on this generator: with flat coordinates, the ideal ellipse beats the sphere by a wide margin.</summary>
    [Fact]
    public void TheIdealEllipseBeatsTheSphereWhenFewCoordinatesMatter()
    {
        var rng = new Random(10);
        var sequences = Enumerable.Range(0, 200).Select(_ => KernelRegressionGenerator.Sample(rng, 4, 32, 1, 0.1, 0)).ToList();
        var spherical = NadarayaWatson.BestMse(sequences, NadarayaWatson.Spherical).Mse;
        var ideal = NadarayaWatson.BestMse(sequences, NadarayaWatson.IdealEllipse).Mse;
        Assert.True(ideal < spherical / 3, $"ideal {ideal}, spherical {spherical}");
    }

    [Fact]
    public void AurocCountsOrderedPairs()
    {
        Assert.Equal(1.0, StatFormer.Probes.RankAgreement.Auroc([0.9, 0.8, 0.1], [true, true, false]));
        Assert.Equal(0.0, StatFormer.Probes.RankAgreement.Auroc([0.1, 0.8, 0.9], [true, false, false]));
        Assert.Equal(0.75, StatFormer.Probes.RankAgreement.Auroc([0.5, 0.5, 0.4], [true, false, false]));
        Assert.Null(StatFormer.Probes.RankAgreement.Auroc([0.5, 0.4], [true, true]));
    }

    [Fact]
    public void ATinyProbeIsDeterministicAndComplete()
    {
        var options = new EllipticalProbeOptions
        {
            KeyDim = 3, Pairs = 8, RelevantCounts = [1, 2], NoiseLevels = [0.1, 0.4], Contaminations = [0.0, 0.3], DModel = 8, Steps = 3,
            BatchSize = 4, EvalSequences = 16, Seeds = 2,
        };
        var first = EllipticalProbe.Run(options);
        var second = EllipticalProbe.Run(options);
        Assert.Equal(4, first.Cells.Count);                                          // r = 1, 2; noise 0.4; contamination 0.3
        Assert.Equal(["relevant", "relevant", "noise", "contamination"], first.Cells.Select(c => c.Setting.Sweep));
        Assert.Equal(16, first.Runs.Count);
        // To float rounding: libtorch's CPU kernels may sum in another order between two runs in one process (last-digit changes).
        Assert.All(first.Runs.Zip(second.Runs), p => Assert.Equal(p.First.Mse, p.Second.Mse, 1e-6));
        Assert.All(first.Runs.Where(r => r.Attention == AttentionKind.Elliptical), r => Assert.InRange(r.MetricAuroc!.Value, 0, 1));
        Assert.All(first.Runs.Where(r => r.Attention == AttentionKind.Softmax), r => Assert.Null(r.MetricAuroc));
        var cell = first.Cells[0];
        var pairs = first.Runs.Where(r => r.Setting == cell.Setting).GroupBy(r => r.Seed).Select(g => g.Single(r => r.Attention == AttentionKind.Softmax).Mse - g.Single(r => r.Attention == AttentionKind.Elliptical).Mse);
        Assert.Equal(pairs.Average(), cell.Improvement.Mean, 10);
        Assert.Equal(16 * 3, first.MetricVsRelevance.Count);
    }

    [Theory]
    [InlineData("KeyDim")]
    [InlineData("RelevantCounts")]
    [InlineData("Contaminations")]
    [InlineData("Heads")]
    public void BadOptionsNameTheirProperty(string property)
    {
        var options = property switch
        {
            "KeyDim" => new EllipticalProbeOptions { KeyDim = 1 },
            "RelevantCounts" => new EllipticalProbeOptions { RelevantCounts = [9] },
            "Contaminations" => new EllipticalProbeOptions { Contaminations = [1.5] },
            _ => new EllipticalProbeOptions { DModel = 30, Heads = 4 },
        };
        Assert.Equal(property, Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }

    [Fact]
    public void VerdictsNeedTwoStandardErrors()
    {
        Assert.Equal(ProbeVerdict.Agrees, ProbeVerdicts.Of(new MeanStd(1.0, 0.5, 3)));
        Assert.Equal(ProbeVerdict.Unclear, ProbeVerdicts.Of(new MeanStd(0.5, 1.0, 3)));
        Assert.Equal(ProbeVerdict.Contradicts, ProbeVerdicts.Of(new MeanStd(-1.0, 0.5, 3)));
        Assert.Equal(ProbeVerdict.Unclear, ProbeVerdicts.Of(new MeanStd(1.0, 0.0, 1)));
    }
}
