namespace StatFormer.Attention;

/// <summary>Which self-attention a model uses.</summary>
public enum AttentionKind
{
    /// <summary>Standard scaled dot-product (spherical Gaussian kernel) attention.</summary>
    Softmax,
    /// <summary>Elliptical (Mahalanobis, diagonal metric) attention, Nielsen et al. 2024.</summary>
    Elliptical,
}
