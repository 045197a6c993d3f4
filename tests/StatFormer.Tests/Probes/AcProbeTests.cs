using StatFormer.Moe;
using StatFormer.Probes;
using StatFormer.Probes.AdaptiveClustering;
using TorchSharp;

namespace StatFormer.Tests.Probes;

/// <summary>In the training collection: the probe seeds libtorch's global generator, which tests running alongside would draw from.</summary>
[Collection(StatFormer.Tests.Training.TrainingTestCollection.Name)]
public sealed class AcProbeTests
{
    [Fact]
    public void TheSameSeedGivesTheSameRunsBitForBit()
    {
        // Inputs built from .NET arrays used to wrap them wherever the GC had put them, and libtorch's GEMMs round by
        // alignment: XMoE's MSE drifted in the 6th digit and AC-XMoE's routing apart within 300 steps (HostTensor).
        var options = new AcProbeOptions { NoiseLevels = [2.0], Routers = ["xmoe"], Steps = 300, Seeds = 1 };
        var first = AcProbe.Run(options).Runs;
        var junk = Enumerable.Range(1, 50).Select(i => new float[i * 7]).ToList();   // move later arrays elsewhere in the heap
        var second = AcProbe.Run(options).Runs;
        Assert.Equal(2, first.Count);
        foreach (var (a, b) in first.Zip(second))
        {
            Assert.Equal(a.Router, b.Router);
            Assert.Equal(a.Mse, b.Mse);
            Assert.Equal(a.RoutingNmi, b.RoutingNmi);
            Assert.Equal(a.WeightAuroc, b.WeightAuroc);
        }
        GC.KeepAlive(junk);
    }

    [Fact]
    public void ClustersAreTightAlongTheirSubsetAndSpreadElsewhere()
    {
        var problem = ClusterSubsetGenerator.Problem(new Random(1), clusters: 3, features: 10, subsetSize: 3, tightSpread: 0.2, noiseSpread: 2.0);
        var batch = ClusterSubsetGenerator.Tokens(new Random(2), problem, 30000);
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal(3, Enumerable.Range(0, 10).Count(q => problem.Informative[k, q]));
            var rows = Enumerable.Range(0, batch.Count).Where(i => batch.Clusters[i] == k).ToList();
            Assert.InRange(rows.Count, 9000, 11000);
            for (var q = 0; q < 10; q++)
            {
                var values = rows.Select(i => (double)batch.Features[i * 10 + q]).ToList();
                var mean = values.Average();
                var sd = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
                if (problem.Informative[k, q])
                {
                    Assert.InRange(sd, 0.19, 0.21);
                    Assert.Equal(problem.Means[k, q], mean, 0.01);
                }
                else
                {
                    Assert.InRange(sd, 1.9, 2.1);
                    Assert.Equal(0, mean, 0.1);
                }
            }
        }
        for (var i = 0; i < 100; i++)
            Assert.Equal(problem.Target(batch.Clusters[i], batch.Features.AsSpan(i * 10, 10)), batch.Targets[i], 1e-5);
    }

    [Fact]
    public void TheTargetDependsOnlyOnTheClustersOwnFeatures()
    {
        var problem = ClusterSubsetGenerator.Problem(new Random(3), 2, 6, 2, 0.3, 1.0);
        var x = new float[] { 0.5f, -1, 2, 0.1f, 0.3f, -0.7f };
        for (var q = 0; q < 6; q++)
        {
            var moved = x.ToArray();
            moved[q] += 1;
            if (problem.Informative[0, q]) Assert.Equal(problem.Slopes[0, q], problem.Target(0, moved) - problem.Target(0, x), 1e-6);
            else Assert.Equal(problem.Target(0, x), problem.Target(0, moved), 12);
        }
    }

    /// <summary>The mechanism on the generator's own clusters: the AC weights computed with the true labels pick out the true subsets.</summary>
    [Fact]
    public void AcWeightsOfTheTrueClustersFindTheTrueSubsets()
    {
        var problem = ClusterSubsetGenerator.Problem(new Random(4), 4, 16, 4, 0.3, 1.0);
        var batch = ClusterSubsetGenerator.Tokens(new Random(5), problem, 2000);
        using var x = torch.tensor(batch.Features, new long[] { batch.Count, 16 });
        using var labels = torch.tensor(batch.Clusters.Select(c => (long)c).ToArray());
        using var w = AdaptiveClusteringWeights.Compute(x, labels, 4);
        var flat = w.data<float>().ToArray();
        for (var k = 0; k < 4; k++)
        {
            var row = Enumerable.Range(0, 16).Select(q => (double)flat[k * 16 + q]).ToArray();
            var mask = Enumerable.Range(0, 16).Select(q => problem.Informative[k, q]).ToArray();
            Assert.Equal(1.0, RankAgreement.Auroc(row, mask));
        }
    }

    [Fact]
    public void MajorityClustersMapExpertsToTheirCommonestCluster()
    {
        int[] experts = [0, 0, 0, 1, 1, 2];
        int[] clusters = [2, 2, 1, 0, 0, 1];
        Assert.Equal([2, 0, 1, -1], AcProbe.MajorityClusters(experts, clusters, 4));
    }

    [Fact]
    public void ATinyProbeIsDeterministicAndComplete()
    {
        var options = new AcProbeOptions
        {
            Clusters = 3, Features = 6, SubsetSize = 2, NoiseLevels = [1.0, 2.0], Routers = ["smoe", "xmoe"], ExpertHidden = 4, Steps = 4, BatchSize = 16,
            EvalTokens = 64, EvalEvery = 2, Seeds = 2,
        };
        var first = AcProbe.Run(options);
        var second = AcProbe.Run(options);
        Assert.Equal(16, first.Runs.Count);
        Assert.Equal(4, first.Cells.Count);
        Assert.All(first.Runs.Zip(second.Runs), p => Assert.Equal(p.First.Mse, p.Second.Mse, 1e-6));
        Assert.All(first.Runs, r => Assert.Equal(2, r.LossCurve.Count));
        Assert.All(first.Runs, r => Assert.InRange(r.RoutingNmi, 0, 1));
        Assert.All(first.Runs, r => Assert.Equal(r.Router.StartsWith("ac-", StringComparison.Ordinal), r.WeightAuroc is not null));
        Assert.NotNull(first.WeightMap);
        Assert.Equal(3, first.WeightMap!.Weights.Length);
        var cell = first.Cells[0];
        var b = first.Runs.Where(r => r.Noise == 1.0 && r.Router == "smoe").OrderBy(r => r.Seed).ToList();
        var a = first.Runs.Where(r => r.Noise == 1.0 && r.Router == "ac-smoe").OrderBy(r => r.Seed).ToList();
        Assert.Equal(b.Zip(a, (x, y) => y.RoutingNmi - x.RoutingNmi).Average(), cell.NmiGain.Mean, 10);
    }

    [Theory]
    [InlineData("SubsetSize")]
    [InlineData("Routers")]
    [InlineData("TopK")]
    public void BadOptionsNameTheirProperty(string property)
    {
        var options = property switch
        {
            "SubsetSize" => new AcProbeOptions { SubsetSize = 16 },
            "Routers" => new AcProbeOptions { Routers = ["ac-smoe"] },
            _ => new AcProbeOptions { TopK = 5 },
        };
        Assert.Equal(property, Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }
}
