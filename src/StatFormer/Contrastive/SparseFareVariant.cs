using StatFormer.Options;

namespace StatFormer.Contrastive;

/// <summary>
/// Which keys a SparseFARE query may attend (spec §2.5, §7 Q6). Chunks come from a stable sort of the batch by
/// (LSH bucket, index) cut into pieces of <see cref="ContrastiveLossOptions.ChunkSize"/>; the previous chunk is cyclic.
/// </summary>
public enum SparseFareVariant
{
    /// <summary>Same bucket only. With <see cref="SparseFareImplementation.DenseMasked"/> this is the whole bucket;
    /// with <see cref="SparseFareImplementation.SortAndChunk"/> it is the bucket ∩ own and previous chunk (exactly
    /// the whole bucket when the chunk size is at least the batch).</summary>
    [CliName("within")]
    WithinBucket,
    /// <summary>Own and previous chunk of the bucket-sorted batch, whatever their buckets: the Reformer reading of
    /// "within bucket and across adjacent buckets", the Table 1 setting per Reviewer 1. The default.</summary>
    [CliName("adjacent")]
    AdjacentChunk,
}
