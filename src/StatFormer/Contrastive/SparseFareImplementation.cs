using StatFormer.Options;

namespace StatFormer.Contrastive;

/// <summary>How SparseFARE computes its masked attention.</summary>
public enum SparseFareImplementation
{
    /// <summary>Gather each chunk and its previous chunk and score only those blocks: O(B log B + B·c·(P + d_k)). The default.</summary>
    [CliName("sort")]
    SortAndChunk,
    /// <summary>The full B×B scores with the support as a mask: O(B²·P), the reference.</summary>
    [CliName("dense")]
    DenseMasked,
}
