using static TorchSharp.torch;

namespace StatFormer.Tests.Training;

/// <summary>A text as character ids, with batches that depend only on (seed, step).</summary>
internal sealed class CharCorpus
{
    public long[] Ids { get; }
    public int VocabSize { get; }

    public CharCorpus(string text)
    {
        var alphabet = text.Distinct().Order().ToList();
        Ids = text.Select(c => (long)alphabet.IndexOf(c)).ToArray();
        VocabSize = alphabet.Count;
    }

    public static CharCorpus Repeated(string unit, int times) => new(string.Concat(Enumerable.Repeat(unit, times)));

    /// <summary>Unigram entropy of the text in nats: the loss of the best context-free predictor.</summary>
    public double UnigramEntropy() =>
        -Ids.GroupBy(i => i).Select(g => (double)g.Count() / Ids.Length).Sum(p => p * Math.Log(p));

    public (Tensor Inputs, Tensor Targets) Batch(long step, int batchSize, int seqLen, int seed = 0)
    {
        // Not HashCode.Combine: it is randomised per process, and batches must be equal across runs.
        var random = new Random(unchecked((int)(seed * 1_000_003L + step)));
        var inputs = new long[batchSize * seqLen];
        var targets = new long[batchSize * seqLen];
        for (var b = 0; b < batchSize; b++)
        {
            var start = random.Next(Ids.Length - seqLen);
            Array.Copy(Ids, start, inputs, b * seqLen, seqLen);
            Array.Copy(Ids, start + 1, targets, b * seqLen, seqLen);
        }
        return (tensor(inputs).reshape(batchSize, seqLen), tensor(targets).reshape(batchSize, seqLen));
    }

    /// <summary>Mean loss over a fixed set of batches, in eval mode (the trainer restores train mode).</summary>
    public double ValidationLoss(nn.Module<Tensor, Tensor> model, int batchSize, int seqLen)
    {
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (inputs, targets) = Batch(-1, batchSize, seqLen, seed: 12345);
        var logits = model.call(inputs);
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1)).item<float>();
    }
}
