using StatFormer.Attention;
using StatFormer.Data;
using StatFormer.Moe;
using StatFormer.Options;
using StatFormer.Transformer;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>What `bench vision` times: a ViT of the default vision size on CIFAR-shaped random images.</summary>
public sealed record VisionBenchmarkOptions
{
    /// <summary>Images per batch.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>Image side in pixels (3 channels).</summary>
    public int ImageSize { get; init; } = 32;
    public int PatchSize { get; init; } = 4;
    public int Layers { get; init; } = 4;
    public int DModel { get; init; } = 64;
    public int Heads { get; init; } = 4;
    /// <summary>Timed training steps per measurement (median).</summary>
    public int Repeats { get; init; } = 10;
    /// <summary>Interleaved rounds (the best median is kept).</summary>
    public int Rounds { get; init; } = 3;
    /// <summary>
    /// Back-to-back step pairs behind each paired ratio (median). Single pairs of MoE steps scatter widely on two threads
    /// (interquartile 0.97–1.08 for ac-smoe / smoe), so that the median of 30 moved between 1.005 and 1.060 from one
    /// stretch to the next; 90 keep it within about ±0.01.
    /// </summary>
    public int Pairs { get; init; } = 90;
    /// <summary>PGD steps k of the PGD-k / (k × forward+backward) ratio.</summary>
    public int PgdSteps { get; init; } = 20;
    /// <summary>SPSA iterations timed (the cleverhans default is 40 × 128 samples; fewer keep the benchmark short, and images/s scales with them).</summary>
    public int SpsaIterations { get; init; } = 4;
    public int SpsaSamples { get; init; } = 32;
    /// <summary>Experts per MoE layer of the AC / base router timing.</summary>
    public int Experts { get; init; } = 8;
    public int Seed { get; init; }

    public void Validate()
    {
        OptionCheck.Require(Batch >= 1, nameof(Batch), $"must be at least 1 (got {Batch})");
        OptionCheck.Require(PatchSize >= 1 && ImageSize % PatchSize == 0, nameof(PatchSize), $"must divide the image size {ImageSize} (got {PatchSize})");
        OptionCheck.Require(Layers >= 2, nameof(Layers), $"must be at least 2 so that a layer is elliptical (got {Layers})");
        OptionCheck.Require(Heads >= 1 && DModel % Heads == 0, nameof(Heads), $"must divide the model width {DModel} (got {Heads})");
        OptionCheck.Require(Repeats >= 1, nameof(Repeats), $"must be at least 1 (got {Repeats})");
        OptionCheck.Require(Rounds >= 1, nameof(Rounds), $"must be at least 1 (got {Rounds})");
        OptionCheck.Require(Pairs >= 1, nameof(Pairs), $"must be at least 1 (got {Pairs})");
        OptionCheck.Require(PgdSteps >= 1, nameof(PgdSteps), $"must be at least 1 (got {PgdSteps})");
        OptionCheck.Require(SpsaIterations >= 1, nameof(SpsaIterations), $"must be at least 1 (got {SpsaIterations})");
        OptionCheck.Require(SpsaSamples >= 1, nameof(SpsaSamples), $"must be at least 1 (got {SpsaSamples})");
        OptionCheck.Require(Experts >= 2, nameof(Experts), $"must be at least 2 (got {Experts})");
    }
}

/// <summary>The training-step times of the two ViTs (identical weights), of MoE ViTs with the AC router and its base router, and the attack throughput of the elliptical one.</summary>
/// <param name="Ratio">Elliptical / softmax training-step time: the median over back-to-back step pairs, the order alternating (the bar is ≤ 1.05); the step times are the best of the rounds' medians.</param>
/// <param name="Moe">AC / base router training-step time of MoE ViTs (ac-smoe / smoe, ac-soft-moe / soft-moe; the bar is ≤ 1.05).</param>
public sealed record VisionBenchmarkResult(int Batch, int ImageSize, int Tokens, int Layers, int DModel, long Parameters, double SoftmaxStepMs, double EllipticalStepMs,
    double Ratio, IReadOnlyList<VisionMoeStepRatio> Moe, AttackBenchmarkResult Attacks)
{
    public const double RatioBar = 1.05;
}

/// <summary>One AC router against its base router in softmax ViTs with an MoE layer in every block (the first on the base router in both).</summary>
/// <param name="Ratio">AC / base training-step time: the median over back-to-back step pairs, the order alternating.</param>
public sealed record VisionMoeStepRatio(string Ac, string Base, int Experts, double BaseStepMs, double AcStepMs, double Ratio);

/// <summary>
/// `bench vision`: one training step (forward, label-smoothed cross-entropy, backward, AdamW) of a softmax and an elliptical
/// ViT with the same weights on the same batch: step times are the best of several rounds' medians, the ratio the median over
/// back-to-back step pairs (alternating order), so that drift in machine load hits both sides of a pair alike; then
/// <see cref="AttackBenchmark"/> (clean, PGD-k, SPSA images/s; PGD-k / (k × forward+backward)) on the elliptical model.
/// The AC / base router ratios time MoE ViTs the same way: an MoE layer in every block,
/// the worst case for the ratio (V-MoE's every other block halves the AC layers' share), top-2 with capacity 1.25 and the
/// balance loss, the AC layers with the image placement (scaled token to router and experts) and running statistics.
/// </summary>
public static class VisionBenchmark
{
    /// <param name="device">Where the models, images and attacks run (default: the CPU); models and images are made on the CPU and moved.</param>
    public static VisionBenchmarkResult Measure(VisionBenchmarkOptions options, Device? device = null)
    {
        device ??= CPU;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        BenchmarkAllocator.RetainFreedMemory();
        VisionModelSpec Spec(AttentionKind attention) => VisionModelSpec.For(new VisionModelOptions
        {
            PatchSize = options.PatchSize,
            Stack = new TransformerStackOptions { Layers = options.Layers, DModel = options.DModel, Heads = options.Heads, Dropout = 0, DropPath = 0, FfnMultiplier = 2, Attention = attention },
        }, 3, options.ImageSize, options.ImageSize, 10);
        torch.manual_seed(options.Seed);
        using var softmax = new VisionTransformer(Spec(AttentionKind.Softmax));
        using var elliptical = new VisionTransformer(Spec(AttentionKind.Elliptical));
        elliptical.load_state_dict(softmax.state_dict());
        softmax.to(device);
        elliptical.to(device);
        using var generator = new Generator((ulong)options.Seed);
        using var images = SeededDraws.Rand(new long[] { options.Batch, 3, options.ImageSize, options.ImageSize }, generator, ScalarType.Float32, device);
        using var labels = SeededDraws.Randint(0, 10, new long[] { options.Batch }, generator, ScalarType.Int64, device);
        using var softmaxOptimizer = torch.optim.AdamW(softmax.parameters(), 1e-4);
        using var ellipticalOptimizer = torch.optim.AdamW(elliptical.parameters(), 1e-4);

        void Step(VisionTransformer model, optim.Optimizer optimizer)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(images), labels, label_smoothing: 0.1).backward();
            optimizer.step();
        }

        var softmaxMs = new List<double>();
        var ellipticalMs = new List<double>();
        for (var round = 0; round < options.Rounds; round++)
        {
            softmaxMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(softmax, softmaxOptimizer), warmup: 2, options.Repeats, device));
            ellipticalMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(elliptical, ellipticalOptimizer), warmup: 2, options.Repeats, device));
        }
        var ratio = BenchmarkTimer.PairedRatio(() => Step(elliptical, ellipticalOptimizer), () => Step(softmax, softmaxOptimizer), options.Pairs, device);
        var moe = new[] { (MoeKind.AcSmoe, MoeKind.Smoe), (MoeKind.AcSoftMoe, MoeKind.SoftMoe) }
            .Select(pair => MoeRatio(options, pair.Item1, pair.Item2, images, labels, device)).ToList();
        var attacks = AttackBenchmark.Measure(elliptical, images, labels,
            new AttackOptions { PgdSteps = options.PgdSteps, SpsaIterations = options.SpsaIterations, SpsaSamples = options.SpsaSamples });
        return new VisionBenchmarkResult(options.Batch, options.ImageSize, softmax.Tokens, options.Layers, options.DModel, softmax.ParameterCount,
            softmaxMs.Min(), ellipticalMs.Min(), ratio, moe, attacks);
    }

    private static VisionMoeStepRatio MoeRatio(VisionBenchmarkOptions options, MoeKind ac, MoeKind baseKind, Tensor images, Tensor labels, Device device)
    {
        VisionModelSpec Spec(MoeKind router) => VisionModelSpec.For(new VisionModelOptions
        {
            PatchSize = options.PatchSize,
            Stack = new TransformerStackOptions
            {
                Layers = options.Layers, DModel = options.DModel, Heads = options.Heads, Dropout = 0, DropPath = 0, FfnMultiplier = 2,
                Moe = new MoeLayout
                {
                    Router = router, Every = 1, AcBaseLayers = 1,
                    Layer = new MoeOptions { Experts = options.Experts, TopK = 2, CapacityFactor = 1.25, AcScaledInput = AcScaledInput.RouterAndExperts },
                },
            },
        }, 3, options.ImageSize, options.ImageSize, 10);
        torch.manual_seed(options.Seed);
        using var baseModel = new VisionTransformer(Spec(baseKind));
        torch.manual_seed(options.Seed);
        using var acModel = new VisionTransformer(Spec(ac));
        baseModel.to(device);
        acModel.to(device);
        using var baseOptimizer = torch.optim.AdamW(baseModel.parameters(), 1e-4);
        using var acOptimizer = torch.optim.AdamW(acModel.parameters(), 1e-4);

        void Step(VisionTransformer model, optim.Optimizer optimizer)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var output = model.Run(images);
            (nn.functional.cross_entropy(output.Logits, labels, label_smoothing: 0.1) + output.AuxiliaryLoss!).backward();
            optimizer.step();
        }

        var baseMs = new List<double>();
        var acMs = new List<double>();
        for (var round = 0; round < options.Rounds; round++)
        {
            baseMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(baseModel, baseOptimizer), warmup: 2, options.Repeats, device));
            acMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(acModel, acOptimizer), warmup: 2, options.Repeats, device));
        }
        var ratio = BenchmarkTimer.PairedRatio(() => Step(acModel, acOptimizer), () => Step(baseModel, baseOptimizer), options.Pairs, device);
        return new VisionMoeStepRatio(EnumNames.Cli(ac), EnumNames.Cli(baseKind), options.Experts, baseMs.Min(), acMs.Min(), ratio);
    }
}
