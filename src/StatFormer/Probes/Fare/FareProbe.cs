using System.Diagnostics;
using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Data;
using StatFormer.Fairness.Data;
using StatFormer.Fairness.Models;
using StatFormer.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Probes.Fare;

/// <summary>FARE's attention over one test batch against the ideal <see cref="LeakyAttributeGenerator.IdealAttention"/>.</summary>
/// <param name="SameGroupMass">Mean over anchors of the attention on negatives of the anchor's own group (ideal: 1).</param>
/// <param name="UniformSameGroupMass">The same for uniform attention over all negatives (what InfoNCE's unweighted negatives amount to).</param>
/// <param name="KlToIdeal">Mean over anchors of KL(p*_i ‖ P_i) in nats (ideal: 0).</param>
/// <param name="DistanceRatio">FARE's own diagnostic (<see cref="FareAttentionDiagnostics.DistanceRatio"/>): &lt; 1 means it prefers similar z.</param>
public sealed record FareAttentionFit(double SameGroupMass, double UniformSameGroupMass, double KlToIdeal, double DistanceRatio);

/// <summary>One trained encoder.</summary>
/// <param name="TargetAccuracy">Test accuracy (%) of a linear probe for the class on the frozen representation.</param>
/// <param name="GroupAccuracy">Test accuracy (%) of a linear probe for the sensitive group: lower = more bias removed.</param>
/// <param name="GroupMajorityRate">The share (%) of the most frequent test group: what a probe that learned nothing scores.</param>
/// <param name="AttentionAtStart">FARE only: its attention at initialisation (W_Q = W_K = I, the Gaussian-kernel estimator of Eq. 10).</param>
/// <param name="Attention">FARE only: after training.</param>
public sealed record FareProbeRun(ContrastiveMethod Method, int Seed, double TargetAccuracy, double GroupAccuracy, double GroupMajorityRate,
    FareAttentionFit? AttentionAtStart, FareAttentionFit? Attention, double Seconds);

/// <summary>A method over seeds; <paramref name="BiasRemoved"/> and <paramref name="AccuracyChange"/> are paired per seed against InfoNCE (null for InfoNCE or without it).</summary>
public sealed record FareProbeMethod(ContrastiveMethod Method, MeanStd TargetAccuracy, MeanStd GroupAccuracy, MeanStd? BiasRemoved, MeanStd? AccuracyChange);

/// <param name="KlDecrease">FARE: KL to the ideal at the start − after training, per seed (positive = training moved it toward the ideal).</param>
public sealed record FareProbeResult(FareProbeOptions Options, IReadOnlyList<FareProbeMethod> Methods, IReadOnlyList<FareProbeRun> Runs,
    MeanStd? SameGroupMass, MeanStd? SameGroupMassAtStart, MeanStd? UniformSameGroupMass, MeanStd? KlToIdeal, MeanStd? KlDecrease, double Seconds);

/// <summary>
/// Runs the FARE probe (<see cref="FareProbeOptions"/>): per seed, one dataset and, per method, an MLP encoder and projection head
/// trained with Adam on the method's loss (from the same initialisation and batches), then linear probes on the frozen
/// representation and, for FARE, its attention against the ideal.
/// </summary>
public static class FareProbe
{
    private const int ProjectionDim = 16;

    /// <param name="device">Where the encoder, head and loss train (default: the CPU); the samples are generated on the CPU and moved, the linear probes fit on the CPU.</param>
    public static FareProbeResult Run(FareProbeOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        device ??= CPU;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var runs = new List<FareProbeRun>();
        for (var seed = 0; seed < options.Seeds; seed++)
        {
            var patterns = LeakyAttributeGenerator.ClassPatterns(new Random(Seeds.ForStream(seed, 0)), options.Classes, options.Features);
            var train = LeakyAttributeGenerator.Sample(new Random(Seeds.ForStream(seed, 1)), patterns, options.Groups, options.TrainSamples, options.ClassScale, options.Leak);
            var test = LeakyAttributeGenerator.Sample(new Random(Seeds.ForStream(seed, 2)), patterns, options.Groups, options.TestSamples, options.ClassScale, options.Leak);
            foreach (var method in options.Methods)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var run = TrainAndEvaluate(options, train, test, method, seed, device);
                runs.Add(run);
                progress?.Invoke($"seed {seed} {EnumNames(method)}: target {run.TargetAccuracy:F1} %, group probe {run.GroupAccuracy:F1} % ({run.Seconds:F1} s)");
            }
        }
        var baseline = runs.Where(r => r.Method == ContrastiveMethod.InfoNce).OrderBy(r => r.Seed).ToList();
        var methods = options.Methods.Select(m =>
        {
            var mine = runs.Where(r => r.Method == m).OrderBy(r => r.Seed).ToList();
            var paired = m != ContrastiveMethod.InfoNce && baseline.Count == mine.Count;
            return new FareProbeMethod(m, MeanStd.Of(mine.Select(r => r.TargetAccuracy)), MeanStd.Of(mine.Select(r => r.GroupAccuracy)),
                paired ? MeanStd.Of(baseline.Zip(mine, (b, x) => b.GroupAccuracy - x.GroupAccuracy)) : null,
                paired ? MeanStd.Of(baseline.Zip(mine, (b, x) => x.TargetAccuracy - b.TargetAccuracy)) : null);
        }).ToList();
        var fare = runs.Where(r => r.Attention is not null).ToList();
        MeanStd? Of(Func<FareProbeRun, double> f) => fare.Count > 0 ? MeanStd.Of(fare.Select(f)) : null;
        return new FareProbeResult(options, methods, runs, Of(r => r.Attention!.SameGroupMass), Of(r => r.AttentionAtStart!.SameGroupMass),
            Of(r => r.Attention!.UniformSameGroupMass), Of(r => r.Attention!.KlToIdeal), Of(r => r.AttentionAtStart!.KlToIdeal - r.Attention!.KlToIdeal),
            clock.Elapsed.TotalSeconds);
    }

    private static string EnumNames(ContrastiveMethod method) => Options.EnumNames.Cli(method);

    private static FareProbeRun TrainAndEvaluate(FareProbeOptions options, LeakySamples train, LeakySamples test, ContrastiveMethod method, int seed, Device device)
    {
        var clock = Stopwatch.StartNew();
        torch.random.manual_seed(seed);
        using var encoder = new MlpEncoder(options.Features, options.Hidden, options.Representation);
        using var head = new ProjectionHead(options.Representation, ProjectionDim);
        using var loss = ContrastiveLossFactory.Create(method, new ContrastiveLossOptions { Temperature = options.Temperature }, sensitiveDim: 2);
        encoder.to(device);
        head.to(device);
        loss.to(device);
        var parameters = encoder.parameters().Concat(head.parameters()).Concat(loss.parameters()).ToList();
        using var optimizer = torch.optim.Adam(parameters, options.LearningRate);
        // On the CPU: the corruption draws there (the same on every device); each batch is then moved.
        using var trainX = HostTensor.From(train.Inputs, new long[] { train.Count, options.Features });
        using var trainZ = HostTensor.From(train.Sensitive, new long[] { train.Count, 2 });
        using var trainG = torch.tensor(train.Groups.Select(g => (long)g).ToArray(), device: CPU);
        var attentionLoss = loss.GetType() == typeof(FareLoss) ? (FareLoss)loss : null;
        var atStart = attentionLoss is null ? null : AttentionFit(attentionLoss, test, options.BatchSize);
        var rng = new Random(Seeds.ForStream(seed, 3));
        var order = Enumerable.Range(0, train.Count).Select(i => (long)i).ToArray();
        encoder.train();
        head.train();
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            rng.Shuffle(order);
            var index = torch.tensor(order.AsSpan(0, options.BatchSize).ToArray(), device: CPU);
            var (view1, view2) = TabularAugmentation.TwoViews(trainX.index_select(0, index), options.CorruptionRate);
            var sensitive = new SensitiveBatch(trainZ.index_select(0, index).to(device), trainG.index_select(0, index).to(device));
            optimizer.zero_grad();
            var value = loss.forward(head.forward(encoder.forward(view1.to(device))), head.forward(encoder.forward(view2.to(device))), sensitive);
            value.backward();
            optimizer.step();
        }
        encoder.eval();
        double targetAccuracy, groupAccuracy;
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            // The representations come back to the CPU, where the linear probes fit.
            var trainRep = encoder.forward(trainX.to(device)).cpu();
            var testRep = encoder.forward(HostTensor.From(test.Inputs, new long[] { test.Count, options.Features }, device)).cpu();
            using var target = LinearProbe.FitClassifier(trainRep, torch.tensor(train.Classes.Select(c => (long)c).ToArray(), device: CPU), options.Classes);
            targetAccuracy = 100 * target.Accuracy(testRep, torch.tensor(test.Classes.Select(c => (long)c).ToArray(), device: CPU));
            using var group = LinearProbe.FitClassifier(trainRep, trainG, options.Groups);
            groupAccuracy = 100 * group.Accuracy(testRep, torch.tensor(test.Groups.Select(g => (long)g).ToArray(), device: CPU));
        }
        var majority = 100.0 * test.Groups.GroupBy(g => g).Max(g => g.Count()) / test.Count;
        var after = attentionLoss is null ? null : AttentionFit(attentionLoss, test, options.BatchSize);
        return new FareProbeRun(method, seed, targetAccuracy, groupAccuracy, majority, atStart, after, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// FARE's attention P over the first <paramref name="batch"/> test samples, as its loss computes it (softmax_j of
    /// (ẑ_i W_Q)(ẑ_j W_K)ᵀ/ρ over j ≠ i, ẑ = z L2-normalised when the loss normalises it), against the ideal.
    /// </summary>
    public static FareAttentionFit AttentionFit(FareLoss fare, LeakySamples samples, int batch)
    {
        ArgumentNullException.ThrowIfNull(fare);
        ArgumentNullException.ThrowIfNull(samples);
        var b = Math.Min(batch, samples.Count);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var device = fare.QueryProjection.device;
        var z = HostTensor.From(samples.Sensitive.AsSpan(0, 2 * b).ToArray(), new long[] { b, 2 }, device);
        var groups = samples.Groups.AsSpan(0, b).ToArray();
        var zn = fare.NormalizeSensitive ? nn.functional.normalize(z, p: 2, dim: 1) : z;
        var logits = zn.matmul(fare.QueryProjection).matmul(zn.matmul(fare.KeyProjection).t()) / fare.AttentionTemperature;
        var p = logits.masked_fill(torch.eye(b, dtype: ScalarType.Bool, device: device), double.NegativeInfinity).softmax(1).to_type(ScalarType.Float64);
        var flat = p.cpu().contiguous().data<double>().ToArray();
        var ideal = LeakyAttributeGenerator.IdealAttention(groups);
        double mass = 0, uniform = 0, kl = 0;
        var rows = 0;
        for (var i = 0; i < b; i++)
        {
            var peers = groups.Count(g => g == groups[i]) - 1;
            if (peers == 0) continue;
            rows++;
            uniform += (double)peers / (b - 1);
            for (var j = 0; j < b; j++)
            {
                if (ideal[i, j] <= 0) continue;
                mass += flat[i * b + j];
                kl += ideal[i, j] * Math.Log(ideal[i, j] / Math.Max(flat[i * b + j], 1e-300));
            }
        }
        var diagnostics = fare.Diagnose(new SensitiveBatch(z, torch.tensor(groups.Select(g => (long)g).ToArray(), device: device)));
        return new FareAttentionFit(mass / rows, uniform / rows, kl / rows, diagnostics.DistanceRatio);
    }
}
