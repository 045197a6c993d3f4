namespace StatFormer.Attention;

/// <summary>How the per-coordinate metric m is averaged over token positions.</summary>
public enum EllipticalEstimator
{
    /// <summary>
    /// Prefix mean: the query at position t uses m_t = mean over s ≤ t of |V^l_s − V^(l−1)_s|, so no
    /// position ever sees a later token. The default for autoregressive models.
    /// </summary>
    Causal,
    /// <summary>
    /// The authors' released estimator: one m per sequence, averaged over every position. In a causal
    /// language model this leaks information from future tokens (including targets) into m. The default
    /// for non-causal attention, where every position sees every token anyway.
    /// </summary>
    Sequence,
    /// <summary>
    /// One m per sequence from the median over positions of |V^l − V^(l−1)| instead of the mean: what the authors'
    /// image-attack scripts use (<c>--grad-median</c>) on checkpoints trained with <see cref="Sequence"/>, a train/test
    /// estimator mismatch (docs/vision.md). Non-causal, like <see cref="Sequence"/>; no padding mask.
    /// </summary>
    Median,
}
