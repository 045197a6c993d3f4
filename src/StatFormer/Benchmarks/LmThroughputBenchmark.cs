using StatFormer.Attention;
using StatFormer.Language.Models;
using StatFormer.Options;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>Training throughput of the language model and its model-FLOPs utilisation.</summary>
/// <param name="StepMs">Best of the interleaved rounds' median step times.</param>
/// <param name="GemmGflopPerSecond">Best of the interleaved rounds' 1024³ GEMM rates (one GEMM measurement before each round of steps).</param>
/// <param name="Breakdown">Where a step goes (components timed on their own at the step's shapes; see <see cref="LmStepBreakdown"/>).</param>
/// <param name="PeakResidentMiB">Peak RSS of the process while this model's steps ran (reset before them).</param>
/// <param name="StepMemoryMiB">That peak minus the RSS before the steps: activations kept for backward, gradients, AdamW state
/// created on the first step, temporaries — what a step adds on top of the weights.</param>
public sealed record LmThroughputResult(string Attention, int DModel, int Layers, int Heads, int SeqLen, int BatchSize, int VocabSize,
    long Parameters, double StepMs, double TokensPerSecond, double ModelGflopPerSecond, double GemmGflopPerSecond,
    LmStepBreakdown? Breakdown = null, double PeakResidentMiB = double.NaN, double StepMemoryMiB = double.NaN,
    BenchmarkClock Clock = BenchmarkClock.Wall)
{
    /// <summary>Achieved model FLOP/s over the FLOP/s of a large square GEMM measured in the same run.</summary>
    public double ModelFlopsUtilisation => ModelGflopPerSecond / GemmGflopPerSecond;
}

/// <summary>
/// Milliseconds per training step by component. Each component is timed on its own (forward + backward at the step's
/// shapes, median, the same clock) and multiplied by how often a step runs it; <see cref="Optimizer"/> is zero_grad and
/// the AdamW update inside real steps; <see cref="Other"/> is the measured step minus all of them (residual adds,
/// dropout calls, autograd bookkeeping between components, and whatever the isolated timings miss; it can be negative
/// when components run faster inside the step than alone).
/// </summary>
/// <param name="Embedding">Token + position embedding lookup and its backward (a dense [V,C] gradient).</param>
/// <param name="Attention">All L attention layers (projections, the metric for elliptical, the fused kernel).</param>
/// <param name="FeedForward">All L dense FFNs.</param>
/// <param name="LayerNorm">The 2L + 1 LayerNorms.</param>
/// <param name="OutputAndLoss">The tied output projection [B·T,C]×[C,V] and the cross-entropy.</param>
public sealed record LmStepBreakdown(double Embedding, double Attention, double FeedForward, double LayerNorm, double OutputAndLoss,
    double Optimizer, double Other);

/// <summary>
/// Measures LM training steps (forward, backward, AdamW update) on random tokens, and a GEMM in the same
/// process as the machine's attainable peak. Model FLOPs follow the PaLM/nanoGPT count:
/// 6·N per token for the weights (N includes the tied embedding, which is also the output layer)
/// plus 6·L·T·C per token for the attention score and value matmuls (forward + backward, causal masking ignored).
/// Steps and GEMM are timed in interleaved rounds (GEMM, steps, GEMM, steps, …) and each keeps its best round:
/// a single GEMM measurement swung ±10 % run to run on a shared machine, and so did the MFU computed from it.
/// </summary>
public static class LmThroughputBenchmark
{
    public static double ModelFlopsPerToken(LmConfig config, long parameters)
    {
        var nonPositional = parameters - (long)config.SeqLen * config.Stack.DModel;
        return 6.0 * nonPositional + 6.0 * config.Stack.Layers * config.SeqLen * config.Stack.DModel;
    }

    /// <summary>GFLOP/s of an n×n×n float32 matmul (median of several), the reference peak for MFU.</summary>
    public static double MeasureGemmGflops(int n = 1024, int repeats = 10, Device? device = null)
    {
        device ??= CPU;
        using var a = randn(n, n, device: device);
        using var b = randn(n, n, device: device);
        var ms = BenchmarkTimer.MedianMilliseconds(() => { using var c = a.matmul(b); }, warmup: 3, repeats, device);
        return 2.0 * n * n * n / (ms * 1e6);
    }

    /// <param name="device">Where the model, the tokens and the GEMM run (default: the CPU); the model is initialised on the CPU and moved.
    /// Resident memory is the host's view.</param>
    public static LmThroughputResult Measure(LmConfig config, int batchSize, int steps = 10, int warmup = 3, int seed = 0, int rounds = 3, Device? device = null)
    {
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), "need at least one round");
        BenchmarkAllocator.RetainFreedMemory();
        device ??= CPU;
        torch.manual_seed(seed);
        using var model = new TransformerLm(config);
        model.to(device);
        model.train();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: 1e-4);
        using var ids = randint(0, config.VocabSize, new long[] { batchSize, config.SeqLen + 1 }, dtype: ScalarType.Int64, device: CPU).to(device);
        using var inputs = ids[.., ..^1].contiguous();
        using var targets = ids[.., 1..].contiguous();

        double optimizerMs = 0;
        var optimizerSteps = 0;
        void Step(bool timeOptimizer)
        {
            using var scope = torch.NewDisposeScope();
            var start = BenchmarkTimer.NowMilliseconds();
            optimizer.zero_grad();
            var zeroEnd = BenchmarkTimer.NowMilliseconds();
            var logits = model.forward(inputs);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, config.VocabSize), targets.reshape(-1));
            loss.backward();
            BenchmarkTimer.Synchronize(device);
            var stepStart = BenchmarkTimer.NowMilliseconds();
            optimizer.step();
            if (!timeOptimizer) return;
            BenchmarkTimer.Synchronize(device);
            optimizerMs += zeroEnd - start + BenchmarkTimer.NowMilliseconds() - stepStart;
            optimizerSteps++;
        }

        GC.Collect();
        var peakReset = ResidentMemory.TryResetPeak();
        var before = ResidentMemory.CurrentBytes();
        var gemm = 0.0;
        var stepMs = double.PositiveInfinity;
        for (var round = 0; round < rounds; round++)
        {
            gemm = Math.Max(gemm, MeasureGemmGflops(device: device));
            stepMs = Math.Min(stepMs, BenchmarkTimer.MedianMilliseconds(() => Step(timeOptimizer: true), round == 0 ? warmup : 0, steps, device));
        }
        var peak = peakReset ? ResidentMemory.PeakBytes() : double.NaN;
        var tokensPerSecond = batchSize * (double)config.SeqLen / (stepMs / 1000.0);
        var flops = ModelFlopsPerToken(config, model.ParameterCount) * tokensPerSecond / 1e9;
        var breakdown = Components(config, batchSize, steps, seed, stepMs, optimizerMs / Math.Max(1, optimizerSteps), device);
        const double mib = 1024.0 * 1024.0;
        return new LmThroughputResult(EnumNames.Cli(config.Stack.Attention), config.Stack.DModel, config.Stack.Layers, config.Stack.Heads, config.SeqLen, batchSize,
            config.VocabSize, model.ParameterCount, stepMs, tokensPerSecond, flops, gemm, breakdown, peak / mib, Math.Max(0, peak - before) / mib, BenchmarkTimer.Clock);
    }

    /// <summary>Times each component of the model on its own at the step's shapes (see <see cref="LmStepBreakdown"/>).</summary>
    private static LmStepBreakdown Components(LmConfig config, int batch, int repeats, int seed, double stepMs, double optimizerMs, Device device)
    {
        var (b, t, c, v, layers) = (batch, config.SeqLen, config.Stack.DModel, config.VocabSize, config.Stack.Layers);
        torch.manual_seed(seed);
        double Time(Func<Tensor> forward, nn.Module module, Tensor? input)
        {
            void Once()
            {
                using var scope = torch.NewDisposeScope();
                module.zero_grad();
                if (input?.grad is { } g) g.zero_();
                var output = forward();
                output.backward(new[] { torch.ones_like(output) });
            }
            module.to(device);
            return BenchmarkTimer.MedianMilliseconds(Once, warmup: 2, repeats, device);
        }

        using var ids = randint(0, v, new long[] { b, t }, dtype: ScalarType.Int64, device: CPU).to(device);
        using var positions = torch.arange(t, dtype: ScalarType.Int64, device: device);
        using var x = randn(b, t, c, device: CPU).to(device).requires_grad_();
        using var embeddings = new EmbeddingPair(v, t, c);
        var embedding = Time(() => embeddings.Forward(ids, positions), embeddings, null);

        using var norm = nn.LayerNorm(c);
        var layerNorm = (2 * layers + 1) * Time(() => norm.forward(x), norm, x);

        using var ffn = new FeedForward(c, config.Stack.FfnMultiplier * c, 0.0, activation: config.Stack.Activation);
        var feedForward = layers * Time(() => ffn.forward(x), ffn, x);

        var attention = 0.0;
        using (var softmax = new SoftmaxSelfAttention(c, config.Stack.Heads, 0.0, causal: true))
        {
            var softmaxMs = Time(() => softmax.forward(x, null, null).Output, softmax, x);
            if (config.Stack.Attention == AttentionKind.Elliptical)
            {
                // Layer 0 has no previous values and runs as softmax; the others estimate m from the previous layer's.
                using var elliptical = new EllipticalSelfAttention(c, config.Stack.Heads, 0.0, causal: true);
                using var previous = randn(b, config.Stack.Heads, t, c / config.Stack.Heads, device: CPU).to(device);
                attention = softmaxMs + (layers - 1) * Time(() => elliptical.forward(x, previous, null).Output, elliptical, x);
            }
            else
            {
                attention = layers * softmaxMs;
            }
        }

        using var output = new TiedOutput(v, c);
        using var targets = randint(0, v, new long[] { b * t }, dtype: ScalarType.Int64, device: CPU).to(device);
        var outputAndLoss = Time(() => output.Loss(x, targets), output, x);

        var other = stepMs - embedding - attention - feedForward - layerNorm - outputAndLoss - optimizerMs;
        return new LmStepBreakdown(embedding, attention, feedForward, layerNorm, outputAndLoss, optimizerMs, other);
    }

    /// <summary>The LM's token and position embeddings, summed.</summary>
    private sealed class EmbeddingPair : nn.Module
    {
        private readonly TorchSharp.Modules.Embedding tokens;
        private readonly TorchSharp.Modules.Embedding positions;

        public EmbeddingPair(int vocab, int seqLen, int dModel) : base("embeddings")
        {
            tokens = nn.Embedding(vocab, dModel);
            positions = nn.Embedding(seqLen, dModel);
            RegisterComponents();
        }

        public Tensor Forward(Tensor ids, Tensor positionIds) => tokens.forward(ids) + positions.forward(positionIds);
    }

    /// <summary>The LM's output layer (x · Eᵀ with the token embedding E) and the cross-entropy over the vocabulary.</summary>
    private sealed class TiedOutput : nn.Module
    {
        private readonly TorchSharp.Modules.Embedding tokens;

        public TiedOutput(int vocab, int dModel) : base("tied_output")
        {
            tokens = nn.Embedding(vocab, dModel);
            RegisterComponents();
        }

        public Tensor Loss(Tensor x, Tensor targets) =>
            nn.functional.cross_entropy(x.matmul(tokens.weight!.t()).reshape(-1, tokens.weight!.shape[0]), targets);
    }
}
