using StatFormer.Data;
using static TorchSharp.torch;

namespace StatFormer.Language.Data;

/// <summary>
/// Draws next-token-prediction batches of random windows from a token stream. The draw is a pure
/// function of (seed, step), so a run resumed at step k sees exactly the batches it would have seen.
/// </summary>
public static class LmBatchSampler
{
    /// <summary>
    /// Returns int64 tensors of shape [batchSize, seqLen]: each row of <c>Inputs</c> is
    /// <c>tokenIds[s..s+seqLen]</c> for a start <c>s</c> uniform in [0, len-seqLen-1], and the same
    /// row of <c>Targets</c> is <c>tokenIds[s+1..s+seqLen+1]</c>, both on <paramref name="device"/> (default: the CPU). The caller owns (disposes) both.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) Sample(long[] tokenIds, int batchSize, int seqLen, int seed, long step, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        if (tokenIds.Length <= seqLen)
            throw new ArgumentException($"sequence length {seqLen} is longer than the data ({tokenIds.Length} tokens); it must be below the token count", nameof(seqLen));

        var random = new Random(Seeds.ForStep(seed, step));
        var inputs = new long[(long)batchSize * seqLen];
        var targets = new long[inputs.Length];
        var startCount = tokenIds.Length - seqLen; // starts 0..len-seqLen-1 leave room for the shifted target
        for (var b = 0; b < batchSize; b++)
        {
            var start = random.Next(startCount);
            Array.Copy(tokenIds, start, inputs, (long)b * seqLen, seqLen);
            Array.Copy(tokenIds, start + 1, targets, (long)b * seqLen, seqLen);
        }
        long[] shape = [batchSize, seqLen];
        return (tensor(inputs, shape, dtype: ScalarType.Int64, device: device), tensor(targets, shape, dtype: ScalarType.Int64, device: device));
    }

    public static long[] ToIds(int[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Array.ConvertAll(ids, id => (long)id);
    }
}
