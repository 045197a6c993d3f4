using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>
/// Attack throughput on one batch. <see cref="PgdRatio"/> is PGD-k time / (k × one forward+backward of the same batch,
/// the input gradient of the cross-entropy as PGD computes it): the bar is ≤ 1.1, the floor is 1 (k of them are
/// unavoidable; PGD adds one forward to judge the last iterate, and the projection).
/// </summary>
/// <param name="PgdRatio">The median over rounds of that round's PGD ms / (k × that round's forward+backward ms), so that
/// machine-load drift between rounds cancels within each ratio.</param>
public sealed record AttackBenchmarkResult(int Batch, int Threads, int PgdSteps, int SpsaIterations, int SpsaSamples,
    double CleanImagesPerSecond, double PgdImagesPerSecond, double SpsaImagesPerSecond,
    double ForwardBackwardMs, double PgdMs, double SpsaMs, double PgdRatio)
{
    public const double PgdRatioBar = 1.1;
}

/// <summary>
/// Times clean evaluation (no-grad forward), one forward+backward to the input, PGD (L∞, <see cref="AttackOptions.PgdSteps"/>
/// steps, default 20) and SPSA (<see cref="AttackOptions.SpsaIterations"/> × <see cref="AttackOptions.SpsaSamples"/>) on
/// the given batch, interleaved within each round; each figure is the best of the rounds' medians. The model is put in eval
/// mode for the measurement and its mode restored. Prints nothing.
/// </summary>
public static class AttackBenchmark
{
    public static AttackBenchmarkResult Measure(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, AttackOptions? options = null,
        double epsilon = 8.0 / 255, int repeats = 3, int warmup = 1, int rounds = 3, int spsaRepeats = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new AttackOptions();
        options.Validate();
        if (images.dim() != 4 || labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"need images [B,C,H,W] and labels [B], got [{string.Join(",", images.shape)}] and [{string.Join(",", labels.shape)}]", nameof(images));
        if (repeats < 1) throw new ArgumentException($"must be at least 1 (got {repeats})", nameof(repeats));
        if (rounds < 1) throw new ArgumentException($"must be at least 1 (got {rounds})", nameof(rounds));
        if (spsaRepeats < 1) throw new ArgumentException($"must be at least 1 (got {spsaRepeats})", nameof(spsaRepeats));

        var pgd = new PgdAttack(options.PgdSteps, options.PgdStepFraction, restarts: 1, options.RandomStart);
        var spsa = new SpsaAttack(options.SpsaIterations, options.SpsaSamples, options.SpsaDelta, options.SpsaLearningRate);
        var threat = new ThreatModel(ThreatNorm.LInf, epsilon);
        var batch = (int)images.shape[0];

        void Clean()
        {
            using var scope = torch.NewDisposeScope();
            AttackLosses.Logits(model, images);
        }
        void ForwardBackward()
        {
            using var scope = torch.NewDisposeScope();
            AttackLosses.InputGradient(model, images, logits => AttackLosses.CrossEntropy(logits, labels));
        }
        void Attack(IImageAttack attack)
        {
            using var scope = torch.NewDisposeScope();
            using var generator = new Generator((ulong)options.Seed);
            attack.Perturb(model, images, labels, threat, generator);
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            double clean = double.PositiveInfinity, forwardBackward = double.PositiveInfinity, pgdMs = double.PositiveInfinity, spsaMs = double.PositiveInfinity;
            var ratios = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var warm = round == 0 ? warmup : 0;
                var roundClean = BenchmarkTimer.MedianMilliseconds(Clean, warm, repeats);
                var roundForwardBackward = BenchmarkTimer.MedianMilliseconds(ForwardBackward, warm, repeats);
                var roundPgd = BenchmarkTimer.MedianMilliseconds(() => Attack(pgd), warm, repeats);
                var roundSpsa = BenchmarkTimer.MedianMilliseconds(() => Attack(spsa), 0, spsaRepeats);
                ratios.Add(roundPgd / (options.PgdSteps * roundForwardBackward));
                clean = Math.Min(clean, roundClean);
                forwardBackward = Math.Min(forwardBackward, roundForwardBackward);
                pgdMs = Math.Min(pgdMs, roundPgd);
                spsaMs = Math.Min(spsaMs, roundSpsa);
            }
            ratios.Sort();
            var ratio = ratios.Count % 2 == 1 ? ratios[ratios.Count / 2] : 0.5 * (ratios[ratios.Count / 2 - 1] + ratios[ratios.Count / 2]);
            double PerSecond(double ms) => batch * 1000.0 / ms;
            return new AttackBenchmarkResult(batch, torch.get_num_threads(), options.PgdSteps, options.SpsaIterations, options.SpsaSamples,
                PerSecond(clean), PerSecond(pgdMs), PerSecond(spsaMs), forwardBackward, pgdMs, spsaMs, ratio);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
