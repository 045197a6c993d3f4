using StatFormer.Options;

namespace StatFormer.Contrastive;

/// <summary>
/// Every hyperparameter of the contrastive losses, with the spec's best readings (fare.md §7) as defaults. Each
/// method reads only its own group; <see cref="Validate"/> names the property of a bad value.
/// </summary>
public sealed record ContrastiveLossOptions
{
    // ---- all methods ----

    /// <summary>τ of the score f(x,y) = cos(g(x), g(y)) / τ (--temperature). 0.1 as in the CCLK ColorMNIST recipe.</summary>
    public double Temperature { get; init; } = 0.1;

    // ---- CCLK ----

    /// <summary>Kernel on z (--cclk-kernel). Cosine: FARE's Table 1 CCLK row (Reviewer 1); the CCLK README uses RBF.</summary>
    public CclkKernel Kernel { get; init; } = CclkKernel.Cosine;

    /// <summary>λ of W = (K_Z + λI)⁻¹K_Z (--cclk-lambda).</summary>
    public double Lambda { get; init; } = 0.01;

    /// <summary>temp_z dividing the kernel's argument (--cclk-kernel-temperature); unused by the cosine kernel.</summary>
    public double KernelTemperature { get; init; } = 1.0;

    // ---- FARE and SparseFARE ----

    /// <summary>d_k of W_Q, W_K ∈ R^{d_z×d_k} (--attention-dim); 0 means d_k = d_z (then W_Q = W_K = I at start).</summary>
    public int AttentionDim { get; init; }

    /// <summary>ρ dividing the attention logits (--attention-temperature); 0 means √d_k ("most often √d", spec §2.4).</summary>
    public double AttentionTemperature { get; init; }

    /// <summary>Let the attention include j = i, i.e. Eq. 12 literally (--include-positive). Off: the positive is masked
    /// like CCLK's W_ii = 0 (spec §7 Q1).</summary>
    public bool IncludePositive { get; init; }

    /// <summary>c_neg of the negative term (--negative-scale): B − 1 (CCLK-consistent) or 1 (literal Eq. 13), spec §7 Q3.</summary>
    public FareNegativeScale NegativeScale { get; init; } = FareNegativeScale.BatchMinusOne;

    /// <summary>L2-normalise the rows of z before W_Q/W_K and LSH, as the derivation of Eq. 10 assumes ‖z‖ constant
    /// (--no-normalize-sensitive turns it off; spec §7 Q2).</summary>
    public bool NormalizeSensitive { get; init; } = true;

    /// <summary>Add attention-weighted same-view negatives (x_i, x_j), j ≠ i, like the CCLK code's Kxx term
    /// (--same-view-negatives). Off: cross-view only, as in Eqs. 11–13 (spec §7 Q4).</summary>
    public bool SameViewNegatives { get; init; }

    // ---- SparseFARE ----

    /// <summary>Number of LSH buckets (--buckets): even, ≥ 2; R has Buckets/2 columns (spec §7 Q5).</summary>
    public int Buckets { get; init; } = 4;

    /// <summary>Support variant (--sparse-variant); AdjacentChunk is the Reformer reading, the Table 1 setting per Reviewer 1.</summary>
    public SparseFareVariant Variant { get; init; } = SparseFareVariant.AdjacentChunk;

    /// <summary>Chunk length c of the bucket-sorted batch (--chunk-size).</summary>
    public int ChunkSize { get; init; } = 64;

    /// <summary>Sort-and-chunk (fast) or the dense masked reference (--sparse-implementation).</summary>
    public SparseFareImplementation Implementation { get; init; } = SparseFareImplementation.SortAndChunk;

    /// <exception cref="ArgumentException">A value out of range; ParamName is its property.</exception>
    public void Validate()
    {
        OptionCheck.Require(double.IsFinite(Temperature) && Temperature > 0, nameof(Temperature), $"must be a positive number, got {Temperature}");
        OptionCheck.Require(Enum.IsDefined(Kernel), nameof(Kernel), $"unknown kernel {Kernel}");
        OptionCheck.Require(double.IsFinite(Lambda) && Lambda > 0, nameof(Lambda), $"must be a positive number, got {Lambda}");
        OptionCheck.Require(double.IsFinite(KernelTemperature) && KernelTemperature > 0, nameof(KernelTemperature), $"must be a positive number, got {KernelTemperature}");
        OptionCheck.Require(AttentionDim >= 0, nameof(AttentionDim), $"must be ≥ 0 (0 = the sensitive dimension), got {AttentionDim}");
        OptionCheck.Require(double.IsFinite(AttentionTemperature) && AttentionTemperature >= 0, nameof(AttentionTemperature), $"must be ≥ 0 (0 = √d_k), got {AttentionTemperature}");
        OptionCheck.Require(Enum.IsDefined(NegativeScale), nameof(NegativeScale), $"unknown value {NegativeScale}");
        OptionCheck.Require(Buckets >= 2 && Buckets % 2 == 0, nameof(Buckets), $"must be an even number ≥ 2, got {Buckets}");
        OptionCheck.Require(Enum.IsDefined(Variant), nameof(Variant), $"unknown value {Variant}");
        OptionCheck.Require(ChunkSize >= 1, nameof(ChunkSize), $"must be ≥ 1, got {ChunkSize}");
        OptionCheck.Require(Enum.IsDefined(Implementation), nameof(Implementation), $"unknown value {Implementation}");
    }
}
