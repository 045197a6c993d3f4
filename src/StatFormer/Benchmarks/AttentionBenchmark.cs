using StatFormer.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>One problem size of the attention benchmark: batch, heads, tokens, head dimension.</summary>
public sealed record AttentionBenchmarkSize(int Batch, int Heads, int Tokens, int HeadDim)
{
    public override string ToString() => $"B{Batch} H{Heads} N{Tokens} D{HeadDim}";
}

/// <summary>Forward+backward milliseconds of the three attention paths at one size, and the elliptical metric's limit.</summary>
/// <param name="RatioEllipticalSoftmaxPaired">Elliptical / softmax as the median over back-to-back pairs of steps (order
/// alternating), robust to load drift on a shared machine; <see cref="RatioEllipticalSoftmax"/> divides the best medians.</param>
/// <param name="MetricExtraBytes">Memory traffic the elliptical metric adds to a step (<see cref="AttentionBenchmark.MetricExtraBytes"/>).</param>
/// <param name="ElementwiseGigabytesPerSecond">The same run's rate of an element-wise op on tensors of the step's [B,H,N,D] size (bytes read + written per second).</param>
public sealed record AttentionBenchmarkResult(string Size, int Batch, int Heads, int Tokens, int HeadDim,
    double SoftmaxMs, double EllipticalMs, double EllipticalExplicitMs,
    double RatioEllipticalSoftmaxPaired = double.NaN, long MetricExtraBytes = 0, double ElementwiseGigabytesPerSecond = double.NaN)
{
    public double RatioEllipticalSoftmax => EllipticalMs / SoftmaxMs;
    public double RatioExplicitFused => EllipticalExplicitMs / EllipticalMs;

    /// <summary>Milliseconds the metric's extra traffic takes at <see cref="ElementwiseGigabytesPerSecond"/>.</summary>
    public double MetricExtraMs => MetricExtraBytes / (ElementwiseGigabytesPerSecond * 1e6);

    /// <summary>The elliptical/softmax ratio the extra traffic implies: (softmax + extra) / softmax.</summary>
    public double LimitEllipticalSoftmax => 1.0 + MetricExtraMs / SoftmaxMs;
}

/// <summary>
/// Times a causal self-attention layer's forward+backward for softmax (fused SDPA), elliptical (fused:
/// metric folded into q) and elliptical through the explicit diag-matrix reference, at equal weights and
/// inputs. The elliptical layers get previous-layer values (laid out as in the model) so the metric is really estimated.
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
        BenchmarkAllocator.RetainFreedMemory();
        device ??= CPU;
        var dModel = size.Heads * size.HeadDim;
        torch.manual_seed(seed);
        using var softmax = new SoftmaxSelfAttention(dModel, size.Heads, dropout: 0.0, causal: true);
        using var elliptical = new EllipticalSelfAttention(dModel, size.Heads, dropout: 0.0, causal: true);
        elliptical.load_state_dict(softmax.state_dict());
        softmax.to(device);
        elliptical.to(device);
        using var x = randn(size.Batch, size.Tokens, dModel, device: CPU).to(device);
        // The previous layer's values as the model passes them: a [B,H,N,D] view of that layer's fused q/k/v output.
        using var previousQkv = randn(new long[] { size.Batch, size.Tokens, 3, size.Heads, size.HeadDim }, device: CPU).to(device);
        using var previous = previousQkv.permute(2, 0, 3, 1, 4)[2];

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
        elliptical.Kernel = AttentionKernel.Fused;
        var paired = BenchmarkTimer.PairedRatio(() => Step(elliptical, previous), () => Step(softmax, null), 3 * repeats, device);
        return new AttentionBenchmarkResult(size.ToString(), size.Batch, size.Heads, size.Tokens, size.HeadDim,
            softmaxMs.Min(), ellipticalMs.Min(), explicitMs.Min(), paired, MetricExtraBytes(size, device), ElementwiseGigabytesPerSecond(size, repeats, device));
    }

    /// <summary>
    /// Bytes the causal elliptical metric adds to a forward+backward step, counted per pass over E = B·H·N·D float32
    /// elements (reads + writes). On the CPU the metric is one scan (<see cref="CausalMetricScan"/>): V and V_prev read,
    /// m written (3E), then q ⊙ m (3E) and in backward grad ⊙ m (3E): 9E floats. Elsewhere it is tensor ops:
    /// |V − V_prev| (3E), abs in place (2E), prefix sums (2E), + ε (2E), max over D (E), ÷ max (2E), and the same q ⊙ m
    /// and grad ⊙ m: 18E floats. The fused kernel itself is untouched.
    /// </summary>
    public static long MetricExtraBytes(AttentionBenchmarkSize size, Device? device = null) =>
        ((device ?? CPU).type == DeviceType.CPU ? 9L : 18L) * 4 * size.Batch * size.Heads * size.Tokens * size.HeadDim;

    /// <summary>GB/s of an out-of-place add of two [B,H,N,D] float32 tensors (12 bytes per element), best of three medians.</summary>
    public static double ElementwiseGigabytesPerSecond(AttentionBenchmarkSize size, int repeats = 30, Device? device = null)
    {
        using var a = randn(size.Batch, size.Heads, size.Tokens, size.HeadDim, device: device);
        using var b = randn(size.Batch, size.Heads, size.Tokens, size.HeadDim, device: device);
        var ms = Enumerable.Range(0, 3).Min(_ => BenchmarkTimer.MedianMilliseconds(() => { using var c = a.add(b); }, warmup: 3, repeats, device));
        return 12.0 * a.numel() / (ms * 1e6);
    }
}
