namespace StatFormer.Fairness.Data;

/// <summary>What a <see cref="FairSplit"/>'s inputs are, and so which augmentation and encoder fit them.</summary>
public enum FairInputKind
{
    /// <summary>RGB images, float [b,3,H,W] in [0,1].</summary>
    Image,

    /// <summary>Feature vectors, float [b,F], numeric columns standardised.</summary>
    Tabular,
}
