using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Language.Generation;

/// <summary>One drawn token.</summary>
/// <param name="LogProb">Log-probability of the token under the distribution it was drawn from: the tempered, top-k / top-p
/// filtered and renormalised softmax (0 when greedy, which draws from a point mass).</param>
/// <param name="ModelLogProb">Log-probability under the model's own distribution (log-softmax of the raw logits, temperature 1, unfiltered).</param>
public readonly record struct SampledToken(int Id, double LogProb, double ModelLogProb);

/// <summary>
/// Draws tokens from logits with temperature, top-k and top-p (nucleus) filtering, or greedily. It owns a CPU torch
/// <see cref="Generator"/> seeded once, so the same seed draws the same sequence of tokens whatever else uses the global RNG.
/// </summary>
public sealed class TokenSampler : IDisposable
{
    private readonly Generator generator;

    public TokenSampler(SamplingOptions options, long seed)
    {
        options.Validate();
        Options = options;
        generator = new Generator((ulong)seed);
    }

    public SamplingOptions Options { get; }

    /// <summary>Draws one token from <paramref name="logits"/> [V] (any device and float type).</summary>
    public SampledToken Sample(Tensor logits)
    {
        using var scope = torch.NewDisposeScope();
        // Float64 on the CPU: exact enough that filtering and the inverse-CDF draw do not depend on the device.
        var raw = logits.detach().to(ScalarType.Float64, CPU).reshape(-1);
        var modelLogProbs = raw.log_softmax(0);
        if (Options.Greedy)
        {
            var best = (int)raw.argmax().item<long>();
            return new SampledToken(best, 0.0, modelLogProbs[best].item<double>());
        }
        var logProbs = FilteredLogProbs(raw, Options);
        // Inverse CDF: the first token whose cumulative probability exceeds u ~ U[0,1).
        var u = torch.rand(1, dtype: ScalarType.Float64, device: CPU, generator: generator).item<double>();
        var cumulative = logProbs.exp().cumsum(0);
        var id = (int)Math.Min(cumulative.lt(u).sum().item<long>(), raw.shape[0] - 1);
        // Rounding can leave u above the last cumulative value; never land on a filtered-out token.
        while (double.IsNegativeInfinity(logProbs[id].item<double>())) id--;
        return new SampledToken(id, logProbs[id].item<double>(), modelLogProbs[id].item<double>());
    }

    /// <summary>
    /// The log-probabilities actually sampled from: log-softmax of logits / temperature after top-k (keep values ≥ the k-th largest)
    /// and top-p (keep, in descending order, every token whose preceding cumulative probability is below p — so the most likely one
    /// always stays), renormalised; removed tokens get −∞. Not for greedy options.
    /// </summary>
    public static Tensor FilteredLogProbs(Tensor logits, SamplingOptions options)
    {
        if (options.Greedy) throw new ArgumentException("greedy sampling has no distribution to filter", nameof(options));
        using var scope = torch.NewDisposeScope();
        var scaled = logits.to(ScalarType.Float64).reshape(-1) / options.Temperature;
        if (options.TopK is { } k && k < scaled.shape[0])
        {
            var kth = scaled.topk(k).values[k - 1];
            scaled = scaled.masked_fill(scaled.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = scaled.softmax(0).sort(descending: true);
            var before = sorted.cumsum(0) - sorted;
            var removeSorted = before.ge(options.TopP);
            var remove = torch.zeros_like(removeSorted).scatter(0, order, removeSorted);
            scaled = scaled.masked_fill(remove, double.NegativeInfinity);
        }
        return scaled.log_softmax(0).MoveToOuterDisposeScope();
    }

    public void Dispose() => generator.Dispose();
}
