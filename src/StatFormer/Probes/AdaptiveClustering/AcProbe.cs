using System.Diagnostics;
using StatFormer.Analysis;
using StatFormer.Data;
using StatFormer.Moe;
using StatFormer.Options;
using StatFormer.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Probes.AdaptiveClustering;

/// <summary>One trained model.</summary>
/// <param name="Router">smoe, xmoe, ac-smoe or ac-xmoe (layer 1; layer 0 is always the base).</param>
/// <param name="Mse">Held-out task MSE.</param>
/// <param name="RoutingNmi">NMI between layer 1's top-1 expert and the true cluster (held out).</param>
/// <param name="FirstLayerNmi">The same for layer 0 (the clusters the AC router works with).</param>
/// <param name="WeightAuroc">AC variants: per expert, the AUROC of its AC feature weights for the informative features of the true
/// cluster most of its layer-0 tokens come from, averaged over experts with tokens (0.5 = unrelated); null for base routers.</param>
/// <param name="LossCurve">Held-out MSE at steps EvalEvery, 2·EvalEvery, …</param>
public sealed record AcProbeRun(double Noise, string Router, int Seed, double Mse, double RoutingNmi, double FirstLayerNmi, double? WeightAuroc,
    IReadOnlyList<double> LossCurve, double Seconds);

/// <summary>A base router against its AC version at one noise level; the differences are paired per seed (same problem, initialisation and batches).</summary>
public sealed record AcProbeCell(double Noise, string BaseRouter, MeanStd BaseMse, MeanStd AcMse, MeanStd MseImprovement, MeanStd BaseNmi, MeanStd AcNmi,
    MeanStd NmiGain, MeanStd? WeightAuroc);

/// <summary>The AC weights [experts, F] of seed 0's first AC model at the first noise level, and the true subsets [experts, F] of each expert's majority cluster.</summary>
public sealed record AcWeightMap(string Router, double[][] Weights, bool[][] TrueSubsets, int[] MajorityClusters);

public sealed record AcProbeResult(AcProbeOptions Options, IReadOnlyList<AcProbeCell> Cells, IReadOnlyList<AcProbeRun> Runs, AcWeightMap? WeightMap, double Seconds);

/// <summary>
/// Runs the AC probe (<see cref="AcProbeOptions"/>): for every noise level, seed and base router, the base model and the AC model
/// trained with Adam on MSE + 0.01 × the balance loss, from the same initialisation and batches, on the same problem.
/// </summary>
public static class AcProbe
{
    private const double BalanceWeight = 0.01;
    private const int CurveTokens = 512;

    /// <param name="device">Where the probe models train (default: the CPU); the data is generated on the CPU and each batch moved.</param>
    public static AcProbeResult Run(AcProbeOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        device ??= CPU;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var runs = new List<AcProbeRun>();
        AcWeightMap? map = null;
        for (var s = 0; s < options.NoiseLevels.Count; s++)
        {
            var noise = options.NoiseLevels[s];
            for (var seed = 0; seed < options.Seeds; seed++)
            {
                var problem = ClusterSubsetGenerator.Problem(new Random(Seeds.ForStream(seed, 3L * s)), options.Clusters, options.Features, options.SubsetSize, options.TightSpread, noise);
                var evalSet = ClusterSubsetGenerator.Tokens(new Random(Seeds.ForStream(seed, 3L * s + 1)), problem, options.EvalTokens);
                foreach (var name in options.Routers)
                {
                    var baseKind = EnumNames.Parse<MoeKind>(name);
                    foreach (var kind in new[] { baseKind, baseKind == MoeKind.Smoe ? MoeKind.AcSmoe : MoeKind.AcXmoe })
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var (run, runMap) = TrainAndEvaluate(options, problem, evalSet, kind, seed, 3L * s + 2, wantMap: map is null && MoeKindNames.IsAdaptive(kind), device);
                        map ??= runMap;
                        runs.Add(run);
                        progress?.Invoke($"noise {noise} seed {seed} {run.Router}: MSE {run.Mse:F4}, routing NMI {run.RoutingNmi:F3} ({run.Seconds:F1} s)");
                    }
                }
            }
        }
        var cells = new List<AcProbeCell>();
        foreach (var noise in options.NoiseLevels)
        {
            foreach (var name in options.Routers)
            {
                var acName = "ac-" + name;
                var b = runs.Where(r => r.Noise == noise && r.Router == name).OrderBy(r => r.Seed).ToList();
                var a = runs.Where(r => r.Noise == noise && r.Router == acName).OrderBy(r => r.Seed).ToList();
                cells.Add(new AcProbeCell(noise, name, MeanStd.Of(b.Select(r => r.Mse)), MeanStd.Of(a.Select(r => r.Mse)), MeanStd.Of(b.Zip(a, (x, y) => x.Mse - y.Mse)),
                    MeanStd.Of(b.Select(r => r.RoutingNmi)), MeanStd.Of(a.Select(r => r.RoutingNmi)), MeanStd.Of(b.Zip(a, (x, y) => y.RoutingNmi - x.RoutingNmi)),
                    MeanStd.OfAll(a.Select(r => r.WeightAuroc))));
            }
        }
        return new AcProbeResult(options, cells, runs, map, clock.Elapsed.TotalSeconds);
    }

    private static (AcProbeRun Run, AcWeightMap? Map) TrainAndEvaluate(AcProbeOptions options, ClusterSubsetProblem problem, ClusterSubsetBatch evalSet,
        MoeKind kind, int seed, long batchStream, bool wantMap, Device device)
    {
        var clock = Stopwatch.StartNew();
        torch.random.manual_seed(seed);
        var moeOptions = new MoeOptions { Experts = options.Clusters, TopK = options.TopK, ExpertHidden = options.ExpertHidden, Dropout = 0.0 };
        using var model = new AcProbeModel(options.Features, kind, moeOptions);
        model.to(device);
        using var optimizer = torch.optim.Adam(model.parameters(), options.LearningRate);
        var rng = new Random(Seeds.ForStream(seed, batchStream));
        var curve = new List<double>();
        using var curveX = HostTensor.From(evalSet.Features.AsSpan(0, Math.Min(CurveTokens, evalSet.Count) * options.Features).ToArray(), new long[] { Math.Min(CurveTokens, evalSet.Count), options.Features }, device);
        using var curveY = HostTensor.From(evalSet.Targets.AsSpan(0, Math.Min(CurveTokens, evalSet.Count)).ToArray(), device: device);
        for (var step = 1; step <= options.Steps; step++)
        {
            model.train();
            using (var scope = torch.NewDisposeScope())
            {
                var batch = ClusterSubsetGenerator.Tokens(rng, problem, options.BatchSize);
                var x = HostTensor.From(batch.Features, new long[] { batch.Count, options.Features }, device);
                var y = HostTensor.From(batch.Targets, device: device);
                optimizer.zero_grad();
                var output = model.forward(x);
                var loss = nn.functional.mse_loss(output.Prediction, y) + output.BalanceLoss * BalanceWeight;
                loss.backward();
                optimizer.step();
            }
            if (step % options.EvalEvery != 0) continue;
            model.eval();
            using (var scope = torch.NewDisposeScope())
            using (torch.no_grad())
                curve.Add(nn.functional.mse_loss(model.forward(curveX).Prediction, curveY).item<float>());
        }
        model.eval();
        using var evalScope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var evalX = HostTensor.From(evalSet.Features, new long[] { evalSet.Count, options.Features }, device);
        var result = model.forward(evalX);
        var mse = nn.functional.mse_loss(result.Prediction, HostTensor.From(evalSet.Targets, device: device)).item<float>();
        var secondExperts = result.SecondExperts.to(ScalarType.Int32).cpu().data<int>().ToArray();
        var firstExperts = result.FirstExperts.to(ScalarType.Int32).cpu().data<int>().ToArray();
        var nmi = Nmi(secondExperts, evalSet.Clusters, options.Clusters);
        var firstNmi = Nmi(firstExperts, evalSet.Clusters, options.Clusters);
        double? auroc = null;
        AcWeightMap? map = null;
        if (model.Second.Router is AdaptiveClusteringRouter router)
        {
            var weights = Weights(router, moeOptions);
            var majority = MajorityClusters(firstExperts, evalSet.Clusters, options.Clusters);
            var scores = new List<double>();
            for (var e = 0; e < options.Clusters; e++)
            {
                if (majority[e] < 0) continue;
                var mask = Enumerable.Range(0, options.Features).Select(q => problem.Informative[majority[e], q]).ToArray();
                if (RankAgreement.Auroc(weights[e], mask) is { } a) scores.Add(a);
            }
            auroc = scores.Count > 0 ? scores.Average() : null;
            if (wantMap)
                map = new AcWeightMap(EnumNames.Cli(kind), weights,
                    majority.Select(c => Enumerable.Range(0, options.Features).Select(q => c >= 0 && problem.Informative[c, q]).ToArray()).ToArray(), majority);
        }
        var run = new AcProbeRun(problem.NoiseSpread, EnumNames.Cli(kind), seed, mse, nmi, firstNmi, auroc, curve, clock.Elapsed.TotalSeconds);
        return (run, map);
    }

    /// <summary>The weights the AC router applies per cluster after training: its running statistics through <see cref="AdaptiveClusteringWeights.FromStatistics"/>.</summary>
    private static double[][] Weights(AdaptiveClusteringRouter router, MoeOptions options)
    {
        using var scope = torch.NewDisposeScope();
        var mad = router.RunningDeviation / router.RunningCount.clamp_min(1e-12).unsqueeze(1);
        var w = AdaptiveClusteringWeights.FromStatistics(router.RunningCount, mad, options.AcEpsilon, options.AcClipMultiple, options.AcNormalisation);
        var (k, f) = ((int)w.shape[0], (int)w.shape[1]);
        var flat = w.cpu().contiguous().data<float>().ToArray();
        return Enumerable.Range(0, k).Select(e => flat.AsSpan(e * f, f).ToArray().Select(v => (double)v).ToArray()).ToArray();
    }

    /// <summary>For each expert, the true cluster most of its tokens belong to (−1 for an expert without tokens).</summary>
    public static int[] MajorityClusters(int[] experts, int[] clusters, int count)
    {
        var table = ClusteringAgreement.Contingency(experts, clusters, count, count);
        return Enumerable.Range(0, count).Select(e =>
        {
            var best = Enumerable.Range(0, count).MaxBy(c => table[e, c]);
            return table[e, best] > 0 ? best : -1;
        }).ToArray();
    }

    private static double Nmi(int[] experts, int[] clusters, int count) =>
        ClusteringAgreement.NormalizedMutualInformation(ClusteringAgreement.Contingency(experts, clusters, count, count));
}
