using System.Diagnostics;
using StatFormer.Attention;
using StatFormer.Data;
using StatFormer.Reporting;
using StatFormer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Probes.Elliptical;

/// <summary>One trained model of the sweep.</summary>
/// <param name="Mse">Mean squared error of the query prediction against the noiseless f(query), on the held-out sequences.</param>
/// <param name="ContextMeanMse">The same for predicting the mean of the sequence's values (a kernel of infinite width): the floor any attention must beat.</param>
/// <param name="MetricAuroc">Elliptical only: over held-out sequences, the mean probability that m mapped to the key coordinates
/// (<see cref="KernelRegressionModel.QueryLoadings"/>) is larger on a relevant coordinate than on an irrelevant one (0.5 = unrelated;
/// the paper's m should be large where f varies); null for softmax or when every coordinate is relevant.</param>
public sealed record EllipticalProbeRun(KernelRegressionSetting Setting, AttentionKind Attention, int Seed, double Mse, double ContextMeanMse,
    double? MetricAuroc, double FinalTrainLoss, double Seconds);

/// <summary>
/// A setting's runs over seeds. <paramref name="Improvement"/>: softmax MSE − elliptical MSE per seed (same initialisation, batches and test set).
/// <paramref name="SphericalKernelMse"/> and <paramref name="IdealKernelMse"/>: the Nadaraya–Watson references on the same test sequences
/// (<see cref="NadarayaWatson"/>; spherical kernel and the ideal ellipse, each at its best bandwidth), and <paramref name="ReferenceGain"/> their paired
/// difference (spherical − ideal): the gain the theory says the task offers a perfect m.
/// </summary>
public sealed record EllipticalProbeCell(KernelRegressionSetting Setting, MeanStd SoftmaxMse, MeanStd EllipticalMse, MeanStd Improvement,
    MeanStd RelativeImprovement, MeanStd ContextMeanMse, MeanStd SphericalKernelMse, MeanStd IdealKernelMse, MeanStd ReferenceGain, MeanStd? MetricAuroc);

/// <summary>One (true relevance, m on that key coordinate) point of a held-out sequence, for the m-vs-relevance plot.</summary>
public sealed record MetricPoint(double Relevance, double Metric, bool Relevant);

/// <summary>Everything the elliptical probe measured.</summary>
/// <param name="MetricVsRelevance">Seed 0's elliptical model at the base setting: per key coordinate of 64 held-out sequences.</param>
public sealed record EllipticalProbeResult(EllipticalProbeOptions Options, IReadOnlyList<EllipticalProbeCell> Cells, IReadOnlyList<EllipticalProbeRun> Runs,
    IReadOnlyList<MetricPoint> MetricVsRelevance, double Seconds);

/// <summary>
/// Runs the elliptical probe (<see cref="EllipticalProbeOptions"/>): for each setting and seed, a softmax and an elliptical
/// <see cref="KernelRegressionModel"/> trained with Adam on the query's MSE from the same initialisation and batches, then
/// evaluated on the same held-out sequences.
/// </summary>
public static class EllipticalProbe
{
    private const int PlottedSequences = 64;

    /// <param name="device">Where the probe models train (default: the CPU); the sequences are generated on the CPU and each batch moved.</param>
    public static EllipticalProbeResult Run(EllipticalProbeOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        device ??= CPU;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var settings = options.Settings();
        var runs = new List<EllipticalProbeRun>();
        var references = new Dictionary<(int Setting, int Seed), (double Spherical, double Ideal)>();
        IReadOnlyList<MetricPoint> points = [];
        for (var s = 0; s < settings.Count; s++)
        {
            for (var seed = 0; seed < options.Seeds; seed++)
            {
                var evalSet = Draw(new Random(Seeds.ForStream(seed, 2L * s + 1)), options, settings[s], options.EvalSequences);
                references[(s, seed)] = (NadarayaWatson.BestMse(evalSet, NadarayaWatson.Spherical).Mse, NadarayaWatson.BestMse(evalSet, NadarayaWatson.IdealEllipse).Mse);
                foreach (var attention in new[] { AttentionKind.Softmax, AttentionKind.Elliptical })
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var (run, runPoints) = TrainAndEvaluate(options, settings[s], s, seed, attention, evalSet, wantPoints: s == 0 && seed == 0, device);
                    if (runPoints is not null) points = runPoints;
                    runs.Add(run);
                    progress?.Invoke($"{settings[s].Sweep} r={settings[s].Relevant} noise={settings[s].Noise} contamination={settings[s].Contamination} seed {seed} {attention}: MSE {run.Mse:F4} ({run.Seconds:F1} s)");
                }
            }
        }
        var cells = settings.Select((setting, s) =>
        {
            var seeds = Enumerable.Range(0, options.Seeds).ToList();
            var soft = runs.Where(r => r.Setting == setting && r.Attention == AttentionKind.Softmax).OrderBy(r => r.Seed).ToList();
            var ell = runs.Where(r => r.Setting == setting && r.Attention == AttentionKind.Elliptical).OrderBy(r => r.Seed).ToList();
            return new EllipticalProbeCell(setting, MeanStd.Of(soft.Select(r => r.Mse)), MeanStd.Of(ell.Select(r => r.Mse)),
                MeanStd.Of(soft.Zip(ell, (a, b) => a.Mse - b.Mse)), MeanStd.Of(soft.Zip(ell, (a, b) => (a.Mse - b.Mse) / a.Mse)),
                MeanStd.Of(soft.Select(r => r.ContextMeanMse)), MeanStd.Of(seeds.Select(seed => references[(s, seed)].Spherical)),
                MeanStd.Of(seeds.Select(seed => references[(s, seed)].Ideal)),
                MeanStd.Of(seeds.Select(seed => references[(s, seed)].Spherical - references[(s, seed)].Ideal)), MeanStd.OfAll(ell.Select(r => r.MetricAuroc)));
        }).ToList();
        return new EllipticalProbeResult(options, cells, runs, points, clock.Elapsed.TotalSeconds);
    }

    private static (EllipticalProbeRun Run, IReadOnlyList<MetricPoint>? Points) TrainAndEvaluate(EllipticalProbeOptions options, KernelRegressionSetting setting,
        int settingIndex, int seed, AttentionKind attention, IReadOnlyList<KernelRegressionSequence> evalSet, bool wantPoints, Device device)
    {
        var clock = Stopwatch.StartNew();
        torch.random.manual_seed(seed);
        using var model = new KernelRegressionModel(options.KeyDim, options.DModel, options.Heads, attention);
        model.to(device);
        using var optimizer = torch.optim.Adam(model.parameters(), options.LearningRate);
        // The same batches for both attentions: the stream depends on seed and setting only.
        var rng = new Random(Seeds.ForStream(seed, 2L * settingIndex));
        var recent = new Queue<double>();
        model.train();
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var batch = Draw(rng, options, setting, options.BatchSize);
            var (tokens, targets) = Tensors(batch, device);
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.forward(tokens), targets);
            loss.backward();
            optimizer.step();
            recent.Enqueue(loss.item<float>());
            if (recent.Count > 20) recent.Dequeue();
        }
        model.eval();
        var (mse, contextMse, auroc, points) = Evaluate(model, evalSet, attention == AttentionKind.Elliptical, wantPoints);
        var run = new EllipticalProbeRun(setting, attention, seed, mse, contextMse, auroc, recent.Average(), clock.Elapsed.TotalSeconds);
        return (run, points);
    }

    private static (double Mse, double ContextMse, double? Auroc, IReadOnlyList<MetricPoint>? Points) Evaluate(KernelRegressionModel model,
        IReadOnlyList<KernelRegressionSequence> evalSet, bool elliptical, bool wantPoints)
    {
        using var noGrad = torch.no_grad();
        double squared = 0, contextSquared = 0, aurocSum = 0;
        var aurocCount = 0;
        var points = new List<MetricPoint>();
        using var loadings = elliptical ? model.QueryLoadings() : null;             // [H,Dh,D]
        const int chunk = 256;
        for (var start = 0; start < evalSet.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var part = evalSet.Skip(start).Take(chunk).ToList();
            var (tokens, targets) = Tensors(part, DeviceChoice.DeviceOf(model));
            var (prediction, metric) = model.Predict(tokens, withMetric: elliptical);
            var predicted = prediction.cpu().data<float>().ToArray();
            float[]? perKey = null;
            if (metric is not null && loadings is not null)
                // μ_d = mean over heads of Σ_j m_j · loading_jd: m seen from each key coordinate.
                perKey = metric.squeeze(2).unsqueeze(-1).mul(loadings.unsqueeze(0)).sum(new long[] { 2 }).mean(new long[] { 1 }).cpu().contiguous().data<float>().ToArray();
            for (var i = 0; i < part.Count; i++)
            {
                var sequence = part[i];
                squared += Math.Pow(predicted[i] - sequence.Target, 2);
                contextSquared += Math.Pow(sequence.Values.Average() - sequence.Target, 2);
                if (perKey is null) continue;
                var d = sequence.KeyDim;
                var mu = perKey.AsSpan(i * d, d).ToArray().Select(v => (double)v).ToArray();
                if (RankAgreement.Auroc(mu, sequence.Relevant) is { } a)
                {
                    aurocSum += a;
                    aurocCount++;
                }
                if (wantPoints && start + i < PlottedSequences)
                    for (var k = 0; k < d; k++) points.Add(new MetricPoint(sequence.Relevance[k], mu[k], sequence.Relevant[k]));
            }
        }
        return (squared / evalSet.Count, contextSquared / evalSet.Count, aurocCount > 0 ? aurocSum / aurocCount : null, wantPoints && elliptical ? points : null);
    }

    private static List<KernelRegressionSequence> Draw(Random rng, EllipticalProbeOptions options, KernelRegressionSetting setting, int count) =>
        Enumerable.Range(0, count).Select(_ => KernelRegressionGenerator.Sample(rng, options.KeyDim, options.Pairs, setting.Relevant, setting.Noise, setting.Contamination)).ToList();

    /// <summary>tokens [B, pairs+1, 2D+2] (rows: key features, value, 0 for the pairs; query features, 0, 1 last) and the noiseless targets [B], on <paramref name="device"/> (default: the CPU).</summary>
    internal static (Tensor Tokens, Tensor Targets) Tensors(IReadOnlyList<KernelRegressionSequence> batch, Device? device = null)
    {
        var (n, d) = (batch[0].Pairs, 2 * batch[0].KeyDim);
        var width = d + 2;
        var data = new float[batch.Count * (n + 1) * width];
        var targets = new float[batch.Count];
        for (var b = 0; b < batch.Count; b++)
        {
            var s = batch[b];
            var offset = b * (n + 1) * width;
            for (var i = 0; i < n; i++)
            {
                s.Features.AsSpan(i * d, d).CopyTo(data.AsSpan(offset + i * width, d));
                data[offset + i * width + d] = s.Values[i];
            }
            s.QueryFeatures.CopyTo(data.AsSpan(offset + n * width, d));
            data[offset + n * width + d + 1] = 1f;
            targets[b] = (float)s.Target;
        }
        return (HostTensor.From(data, new long[] { batch.Count, n + 1, width }, device), HostTensor.From(targets, device: device));
    }
}
