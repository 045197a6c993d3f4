using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Language.Evaluation;

/// <summary>
/// Scores a token stream with a causal language model (ids [B,T] → logits [B,T,V]) so that every
/// target position 1…N-1 is predicted exactly once.
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>One forward window: inputs ids[Start, Start+Length), targets shifted by one; only targets at positions ≥ ScoreFrom count.</summary>
    private readonly record struct Window(long Start, int Length, int ScoreFrom);

    /// <summary>
    /// Without <paramref name="stride"/>: non-overlapping windows of <paramref name="seqLen"/> inputs (the last one may be shorter),
    /// all targets scored. With stride s: windows of <paramref name="seqLen"/> inputs advance by s; the first window scores all its
    /// targets and each later one only its last s (fewer at the end of the stream), so each prediction gets maximal left context
    /// (the paper's eval_sliding_window with s = 1).
    /// </summary>
    /// <param name="scoredTargets">Optional, one flag per token: only targets whose flag is true are scored (e.g. the uncorrupted
    /// words of an attacked stream); the windows and contexts are unchanged.</param>
    public static PerplexityResult Evaluate(nn.Module<Tensor, Tensor> model, long[] tokenIds, int seqLen, int batchSize, int? stride = null,
        bool[]? scoredTargets = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.Length < 2)
            throw new ArgumentException($"evaluation text: need at least 2 tokens to score a prediction, got {tokenIds.Length}.", nameof(tokenIds));
        if (seqLen < 1)
            throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, "must be at least 1");
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be at least 1");
        if (stride is { } s && (s < 1 || s > seqLen))
            throw new ArgumentOutOfRangeException(nameof(stride), s, $"must be between 1 and the sequence length {seqLen}");
        if (scoredTargets is not null && scoredTargets.Length != tokenIds.Length)
            throw new ArgumentException($"scoredTargets has {scoredTargets.Length} flags for {tokenIds.Length} tokens", nameof(scoredTargets));

        var windows = stride is { } step ? SlidingWindows(tokenIds.Length, seqLen, step) : DisjointWindows(tokenIds.Length, seqLen);
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            double totalNll = 0;
            long scored = 0;
            foreach (var batch in Batches(windows, batchSize))
            {
                using var scope = torch.NewDisposeScope();
                var (nll, count) = ScoreBatch(model, tokenIds, batch, device, scoredTargets);
                totalNll += nll;
                scored += count;
            }
            var mean = scored == 0 ? double.NaN : totalNll / scored;
            return new PerplexityResult(mean, Math.Exp(mean), scored);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static List<Window> DisjointWindows(int n, int seqLen)
    {
        var windows = new List<Window>();
        for (long start = 0; start < n - 1; start += seqLen)
            windows.Add(new Window(start, (int)Math.Min(seqLen, n - 1 - start), 0));
        return windows;
    }

    private static List<Window> SlidingWindows(int n, int seqLen, int stride)
    {
        var windows = new List<Window>();
        // `end` is the index of the last target already scored.
        long end = Math.Min(seqLen, n - 1);
        windows.Add(new Window(0, (int)end, 0));
        while (end < n - 1)
        {
            long newEnd = Math.Min(end + stride, n - 1);
            int newTargets = (int)(newEnd - end);
            // newEnd > seqLen here, so the window always has its full length.
            windows.Add(new Window(newEnd - seqLen, seqLen, seqLen - newTargets));
            end = newEnd;
        }
        return windows;
    }

    /// <summary>Consecutive windows of equal length, at most <paramref name="batchSize"/> per group (a tensor batch must be rectangular).</summary>
    private static IEnumerable<List<Window>> Batches(List<Window> windows, int batchSize)
    {
        var current = new List<Window>(batchSize);
        foreach (var w in windows)
        {
            if (current.Count == batchSize || (current.Count > 0 && current[0].Length != w.Length))
            {
                yield return current;
                current = new List<Window>(batchSize);
            }
            current.Add(w);
        }
        if (current.Count > 0) yield return current;
    }

    private static (double Nll, long Count) ScoreBatch(nn.Module<Tensor, Tensor> model, long[] ids, List<Window> batch, Device device, bool[]? scoredTargets)
    {
        int b = batch.Count, t = batch[0].Length;
        var inputs = new long[b * t];
        var targets = new long[b * t];
        var scoredRows = new List<long>();
        for (int i = 0; i < b; i++)
        {
            var w = batch[i];
            Array.Copy(ids, w.Start, inputs, i * t, t);
            Array.Copy(ids, w.Start + 1, targets, i * t, t);
            for (int j = w.ScoreFrom; j < t; j++)
                if (scoredTargets is null || scoredTargets[w.Start + 1 + j]) scoredRows.Add((long)i * t + j);
        }
        if (scoredRows.Count == 0) return (0, 0);

        var input = torch.tensor(inputs, new long[] { b, t }, dtype: ScalarType.Int64, device: device);
        var logits = model.call(input);
        if (logits.dim() != 3 || logits.shape[0] != b || logits.shape[1] != t)
            throw new InvalidOperationException($"model returned logits of shape [{string.Join(",", logits.shape)}], expected [{b},{t},V].");

        var selected = logits.reshape(b * t, logits.shape[2]);
        var selectedTargets = torch.tensor(targets, dtype: ScalarType.Int64, device: device);
        // Sliding windows score only a few rows; selecting them first avoids a log-softmax over the whole [B·T, V] block.
        if (scoredRows.Count < b * t)
        {
            var rows = torch.tensor(scoredRows.ToArray(), dtype: ScalarType.Int64, device: device);
            selected = selected.index_select(0, rows);
            selectedTargets = selectedTargets.index_select(0, rows);
        }
        // Half-precision logits lose too much in log-softmax; float64 would double the memory of the largest tensor here.
        if (selected.dtype != ScalarType.Float64) selected = selected.to(ScalarType.Float32);
        var nll = nn.functional.cross_entropy(selected, selectedTargets, reduction: nn.Reduction.None);
        // Summing in float64 keeps the mean exact enough over millions of tokens.
        return (nll.to(ScalarType.Float64).sum().item<double>(), scoredRows.Count);
    }
}
