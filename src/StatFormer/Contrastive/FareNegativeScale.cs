using StatFormer.Options;

namespace StatFormer.Contrastive;

/// <summary>
/// The multiplier c_neg of FARE's negative term log(e^pos + c_neg·FARE_i) (spec §7 Q3). FARE_i is a convex
/// combination of the negatives' e^f (the attention rows sum to 1), i.e. one "average negative".
/// </summary>
public enum FareNegativeScale
{
    /// <summary>c_neg = B − 1: as many negatives as InfoNCE sees, consistent with CCLK's (n−1) factor. The default.</summary>
    [CliName("batch")]
    BatchMinusOne,
    /// <summary>c_neg = 1: the literal paper form of Eq. 13.</summary>
    One,
}
