namespace StatFormer.Moe;

/// <summary>Which tokens the AC router's per-cluster spreads are estimated from.</summary>
public enum AcEstimator
{
    /// <summary>
    /// Running statistics kept like BatchNorm's: a count-weighted exponential average of each cluster's token
    /// count and mean absolute deviation over past training batches, updated after the batch has been routed
    /// and frozen in evaluation. A batch is routed only with statistics of earlier batches, so no token's
    /// routing depends on any token of its own batch: strictly causal. The default.
    /// </summary>
    Running,
    /// <summary>
    /// The authors' rule: statistics of the current batch (all B·T tokens). In a causal language model this
    /// leaks: position t is routed with statistics of its own future tokens and, at evaluation, of the next
    /// window batched beside it.
    /// </summary>
    Batch,
}
