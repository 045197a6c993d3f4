using StatFormer.Options;

namespace StatFormer.Contrastive;

/// <summary>The contrastive objectives compared in the FARE paper (spec §2); CLI names in <see cref="ContrastiveMethodNames"/>.</summary>
public enum ContrastiveMethod
{
    /// <summary>SimCLR NT-Xent over 2B views (spec §2.1): no use of z.</summary>
    [CliName("infonce")]
    InfoNce,
    /// <summary>NT-Xent with negatives restricted to the anchor's group (spec §2.2).</summary>
    [CliName("fair-infonce")]
    FairInfoNce,
    /// <summary>Conditional contrastive learning with kernels, the reference code's weac-infonce form (spec §2.3).</summary>
    Cclk,
    /// <summary>Fairness-aware attention over z weighting the negatives (spec §2.4, §2.6).</summary>
    Fare,
    /// <summary>FARE with the attention restricted to an LSH/chunk support (spec §2.5).</summary>
    SparseFare,
}
