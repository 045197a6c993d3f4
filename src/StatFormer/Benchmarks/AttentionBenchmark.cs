using StatFormer.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>One problem size of the attention benchmark: batch, heads, tokens, head dimension.</summary>
public sealed record AttentionBenchmarkSize(int Batch, int Heads, int Tokens, int HeadDim)
{
    public override string ToString() => $"B{Batch} H{Heads} N{Tokens} D{HeadDim}";
}

/// <summary>Forward+backward milliseconds of the three attention paths at one size.</summary>
public sealed record AttentionBenchmarkResult(string Size, int Batch, int Heads, int Tokens, int HeadDim,
    double SoftmaxMs, double EllipticalMs, double EllipticalExplicitMs)
{
    public double RatioEllipticalSoftmax => EllipticalMs / SoftmaxMs;
    public double RatioExplicitFused => EllipticalExplicitMs / EllipticalMs;
}

/// <summary>
/// Times a causal self-attention layer's forward+backward for softmax (fused SDPA), elliptical (fused:
/// metric folded into q) and elliptical through the explicit diag-matrix reference, at equal weights and
/// inputs. The elliptical layers get previous-layer values so the metric is really estimated.
/// </summary>
public static class AttentionBenchmark
{
    public static IReadOnlyList<AttentionBenchmarkSize> DefaultSizes { get; } = new[]
    {
        new AttentionBenchmarkSize(8, 4, 128, 32),
        new AttentionBenchmarkSize(8, 4, 256, 64),
        new AttentionBenchmarkSize(4, 8, 512, 32),
    };

    /// <param name="device">Where the layers and inputs live (default: the CPU); they are initialised on the CPU and moved.</param>
    public static AttentionBenchmarkResult Measure(AttentionBenchmarkSize size, int warmup = 3, int repeats = 30, int seed = 0, Device? device = null)
    {
        device ??= CPU;
        var dModel = size.Heads * size.HeadDim;
        torch.manual_seed(seed);
        using var softmax = new SoftmaxSelfAttention(dModel, size.Heads, dropout: 0.0, causal: true);
        using var elliptical = new EllipticalSelfAttention(dModel, size.Heads, dropout: 0.0, causal: true);
        elliptical.load_state_dict(softmax.state_dict());
        softmax.to(device);
        elliptical.to(device);
        using var x = randn(size.Batch, size.Tokens, dModel, device: CPU).to(device);
        using var previous = randn(size.Batch, size.Heads, size.Tokens, size.HeadDim, device: CPU).to(device);

        void Step(SelfAttention layer, Tensor? prev)
        {
            using var scope = torch.NewDisposeScope();
            layer.zero_grad();
            var input = x.detach().requires_grad_();
            layer.forward(input, prev, null).Output.sum().backward();
        }

        // Interleave the three so that drifting machine load hits them alike.
        var softmaxMs = new List<double>();
        var ellipticalMs = new List<double>();
        var explicitMs = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            softmaxMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(softmax, null), warmup, repeats, device));
            elliptical.Kernel = AttentionKernel.Fused;
            ellipticalMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(elliptical, previous), warmup, repeats, device));
            elliptical.Kernel = AttentionKernel.Explicit;
            explicitMs.Add(BenchmarkTimer.MedianMilliseconds(() => Step(elliptical, previous), warmup, repeats, device));
        }
        return new AttentionBenchmarkResult(size.ToString(), size.Batch, size.Heads, size.Tokens, size.HeadDim,
            softmaxMs.Min(), ellipticalMs.Min(), explicitMs.Min());
    }
}
