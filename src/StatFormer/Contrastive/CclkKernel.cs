namespace StatFormer.Contrastive;

/// <summary>The kernel k(z_i, z_j) on the sensitive attribute used by CCLK (spec §2.3 table; t = kernel temperature).</summary>
public enum CclkKernel
{
    /// <summary>cos(z_i, z_j). The default: FARE's Table 1 CCLK row is the cosine kernel (Reviewer 1), not the README's RBF.</summary>
    Cosine,
    /// <summary>exp(−‖z_i − z_j‖² / t).</summary>
    Rbf,
    /// <summary>z_iᵀz_j / t.</summary>
    Linear,
    /// <summary>(z_iᵀz_j)³ / t.</summary>
    Polynomial,
    /// <summary>exp(−‖z_i − z_j‖ / t).</summary>
    Laplacian,
}
