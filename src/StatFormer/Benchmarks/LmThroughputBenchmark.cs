using StatFormer.Language.Models;
using StatFormer.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>Training throughput of the language model and its model-FLOPs utilisation.</summary>
public sealed record LmThroughputResult(string Attention, int DModel, int Layers, int Heads, int SeqLen, int BatchSize, int VocabSize,
    long Parameters, double StepMs, double TokensPerSecond, double ModelGflopPerSecond, double GemmGflopPerSecond)
{
    /// <summary>Achieved model FLOP/s over the FLOP/s of a large square GEMM measured in the same run.</summary>
    public double ModelFlopsUtilisation => ModelGflopPerSecond / GemmGflopPerSecond;
}

/// <summary>
/// Measures LM training steps (forward, backward, AdamW update) on random tokens, and a GEMM in the same
/// process as the machine's attainable peak. Model FLOPs follow the PaLM/nanoGPT count:
/// 6·N per token for the weights (N includes the tied embedding, which is also the output layer)
/// plus 6·L·T·C per token for the attention score and value matmuls (forward + backward, causal masking ignored).
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

    /// <param name="device">Where the model, the tokens and the GEMM run (default: the CPU); the model is initialised on the CPU and moved.</param>
    public static LmThroughputResult Measure(LmConfig config, int batchSize, int steps = 10, int warmup = 3, int seed = 0, Device? device = null)
    {
        device ??= CPU;
        torch.manual_seed(seed);
        using var model = new TransformerLm(config);
        model.to(device);
        model.train();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: 1e-4);
        using var ids = randint(0, config.VocabSize, new long[] { batchSize, config.SeqLen + 1 }, dtype: ScalarType.Int64, device: CPU).to(device);
        using var inputs = ids[.., ..^1].contiguous();
        using var targets = ids[.., 1..].contiguous();

        void Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.forward(inputs);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, config.VocabSize), targets.reshape(-1));
            loss.backward();
            optimizer.step();
        }

        var gemm = MeasureGemmGflops(device: device);
        var stepMs = BenchmarkTimer.MedianMilliseconds(Step, warmup, steps, device);
        var tokensPerSecond = batchSize * (double)config.SeqLen / (stepMs / 1000.0);
        var flops = ModelFlopsPerToken(config, model.ParameterCount) * tokensPerSecond / 1e9;
        gemm = Math.Max(gemm, MeasureGemmGflops(device: device));
        return new LmThroughputResult(EnumNames.Cli(config.Stack.Attention), config.Stack.DModel, config.Stack.Layers, config.Stack.Heads, config.SeqLen, batchSize,
            config.VocabSize, model.ParameterCount, stepMs, tokensPerSecond, flops, gemm);
    }
}
