namespace StatFormer.Fairness.Models;

/// <summary>The normalisation after each hidden layer of an <see cref="MlpEncoder"/>.</summary>
public enum MlpNormalization
{
    /// <summary>BatchNorm1d: the SimCLR-style default; needs batches of at least 2 in training mode.</summary>
    BatchNorm,

    /// <summary>LayerNorm: per-sample, so results do not depend on batch composition.</summary>
    LayerNorm,
}
