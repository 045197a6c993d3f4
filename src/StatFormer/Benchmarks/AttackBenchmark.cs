using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>
/// Attack throughput on one batch. <see cref="PgdRatio"/> is PGD-k time / (k × one forward+backward of the same batch,
/// the input gradient of the cross-entropy as PGD computes it): the bar is ≤ 1.1, the floor is 1 (k of them are
/// unavoidable; PGD adds one forward to judge the last iterate, and the projection).
/// </summary>
/// <param name="ForwardBackwardMs">The median of the timed blocks of k back-to-back forward+backward passes, divided by k.</param>
/// <param name="PgdRatio">The median over pairs (one PGD-k run, one block of k forward+backward passes, order alternating)
/// of the pair's time ratio, so that machine-load drift, large on a small shared machine, cancels within each pair.</param>
public sealed record AttackBenchmarkResult(int Batch, int Threads, int PgdSteps, int SpsaIterations, int SpsaSamples,
    double CleanImagesPerSecond, double PgdImagesPerSecond, double SpsaImagesPerSecond,
    double ForwardBackwardMs, double PgdMs, double SpsaMs, double PgdRatio)
{
    public const double PgdRatioBar = 1.1;
}

/// <summary>
/// Times clean evaluation (no-grad forward), forward+backward to the input, PGD (L∞, <see cref="AttackOptions.PgdSteps"/>
/// steps, default 20) and SPSA (<see cref="AttackOptions.SpsaIterations"/> × <see cref="AttackOptions.SpsaSamples"/>,
/// 2·samples·iterations forwards per image: set fewer iterations for a quick figure, images/s scales as 1/iterations)
/// on the given batch. Medians of the timed calls after <c>warmup</c> untimed ones of each. The model is put in eval
/// mode for the measurement and its mode restored. Prints nothing.
/// </summary>
public static class AttackBenchmark
{
    /// <param name="pairs">PGD / forward+backward pairs timed (the PGD and ratio figures are their medians).</param>
    public static AttackBenchmarkResult Measure(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, AttackOptions? options = null,
        double epsilon = 8.0 / 255, int repeats = 5, int warmup = 1, int pairs = 5, int spsaRepeats = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new AttackOptions();
        options.Validate();
        if (images.dim() != 4 || labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"need images [B,C,H,W] and labels [B], got [{string.Join(",", images.shape)}] and [{string.Join(",", labels.shape)}]", nameof(images));
        if (repeats < 1) throw new ArgumentException($"must be at least 1 (got {repeats})", nameof(repeats));
        if (pairs < 1) throw new ArgumentException($"must be at least 1 (got {pairs})", nameof(pairs));
        if (spsaRepeats < 1) throw new ArgumentException($"must be at least 1 (got {spsaRepeats})", nameof(spsaRepeats));

        var steps = options.PgdSteps;
        var pgd = new PgdAttack(steps, options.PgdStepFraction, restarts: 1, options.RandomStart);
        var spsa = new SpsaAttack(options.SpsaIterations, options.SpsaSamples, options.SpsaDelta, options.SpsaLearningRate);
        var threat = new ThreatModel(ThreatNorm.LInf, epsilon);
        var batch = (int)images.shape[0];

        void Clean()
        {
            using var scope = torch.NewDisposeScope();
            AttackLosses.Logits(model, images);
        }
        void ForwardBackwardBlock()
        {
            for (var i = 0; i < steps; i++)
            {
                using var scope = torch.NewDisposeScope();
                AttackLosses.InputGradient(model, images, logits => AttackLosses.CrossEntropy(logits, labels));
            }
        }
        void Attack(IImageAttack attack)
        {
            using var scope = torch.NewDisposeScope();
            using var generator = new Generator((ulong)options.Seed);
            attack.Perturb(model, images, labels, threat, generator);
        }
        var device = images.device;
        double TimeOnce(Action action) => BenchmarkTimer.MedianMilliseconds(action, warmup: 0, repeats: 1, device);

        var wasTraining = model.training;
        model.eval();
        try
        {
            var clean = BenchmarkTimer.MedianMilliseconds(Clean, warmup, repeats, device);
            for (var i = 0; i < warmup; i++)
            {
                ForwardBackwardBlock();
                Attack(pgd);
            }
            var (blocks, pgdTimes, ratios) = (new List<double>(), new List<double>(), new List<double>());
            for (var pair = 0; pair < pairs; pair++)
            {
                double block, attack;
                if (pair % 2 == 0)
                {
                    block = TimeOnce(ForwardBackwardBlock);
                    attack = TimeOnce(() => Attack(pgd));
                }
                else
                {
                    attack = TimeOnce(() => Attack(pgd));
                    block = TimeOnce(ForwardBackwardBlock);
                }
                blocks.Add(block);
                pgdTimes.Add(attack);
                ratios.Add(attack / block);
            }
            var spsaMs = BenchmarkTimer.MedianMilliseconds(() => Attack(spsa), 0, spsaRepeats, device);
            var pgdMs = Median(pgdTimes);
            double PerSecond(double ms) => batch * 1000.0 / ms;
            return new AttackBenchmarkResult(batch, torch.get_num_threads(), steps, options.SpsaIterations, options.SpsaSamples,
                PerSecond(clean), PerSecond(pgdMs), PerSecond(spsaMs), Median(blocks) / steps, pgdMs, spsaMs, Median(ratios));
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
}
