using StatFormer.Options;

namespace StatFormer.Moe;

/// <summary>
/// Hyperparameters of a mixture-of-experts feed-forward layer. <see cref="Validate"/> names the property of
/// a bad value (<see cref="ArgumentException.ParamName"/>).
/// </summary>
public sealed record MoeOptions
{
    /// <summary>Number of experts E.</summary>
    public int Experts { get; init; } = 8;

    /// <summary>Experts per token k (top-k routing).</summary>
    public int TopK { get; init; } = 2;

    /// <summary>Hidden width of each expert's MLP.</summary>
    public required int ExpertHidden { get; init; }

    /// <summary>Dropout on the layer's combined output (as in the dense feed-forward).</summary>
    public double Dropout { get; init; } = 0.0;

    /// <summary>
    /// 0: no capacity limit, no assignment is dropped. Otherwise each expert takes at most
    /// ceil(CapacityFactor·N·k/E) of the N·k token assignments of a batch.
    /// </summary>
    public double CapacityFactor { get; init; } = 0.0;

    /// <summary>Dimension of the XMoE routing space (the projection and the expert embeddings).</summary>
    public int XmoeDim { get; init; } = 8;

    /// <summary>Whether the XMoE temperature is learned (as a log-temperature) or fixed at <see cref="XmoeTemperature"/>.</summary>
    public bool XmoeLearnableTemperature { get; init; } = true;

    /// <summary>Initial (learnable) or fixed XMoE temperature dividing the cosine scores.</summary>
    public double XmoeTemperature { get; init; } = 0.07;

    /// <summary>ε in the AC feature weights 1/(MAD + ε).</summary>
    public double AcEpsilon { get; init; } = 1e-4;

    /// <summary>AC weights are clipped at this multiple of their mean before the per-feature normalisation.</summary>
    public double AcClipMultiple { get; init; } = 10.0;

    /// <summary>
    /// AC per-token weights: false = the weights of the token's previous top-1 cluster (the released LM code);
    /// true = the previous gate-weighted mix of the weights of all k previous clusters.
    /// </summary>
    public bool AcMixTopK { get; init; } = false;

    /// <summary>Where the AC spreads come from: running statistics of past batches (causal) or the current batch (the authors' rule, leaks in a causal LM).</summary>
    public AcEstimator AcEstimator { get; init; } = AcEstimator.Running;

    /// <summary>Weight of the newest batch in the running AC statistics (BatchNorm's momentum; ≈ 1/momentum batches remembered).</summary>
    public double AcMomentum { get; init; } = 0.1;

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Experts >= 1, nameof(Experts), $"must be at least 1 (got {Experts})");
        OptionCheck.Require(TopK >= 1 && TopK <= Experts, nameof(TopK), $"must be between 1 and Experts ({Experts}) (got {TopK})");
        OptionCheck.Require(ExpertHidden >= 1, nameof(ExpertHidden), $"must be at least 1 (got {ExpertHidden})");
        OptionCheck.Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) (got {Dropout})");
        OptionCheck.Require(CapacityFactor >= 0 && double.IsFinite(CapacityFactor), nameof(CapacityFactor), $"must be 0 (no limit) or a positive finite number (got {CapacityFactor})");
        OptionCheck.Require(XmoeDim >= 1, nameof(XmoeDim), $"must be at least 1 (got {XmoeDim})");
        OptionCheck.Require(XmoeTemperature > 0 && double.IsFinite(XmoeTemperature), nameof(XmoeTemperature), $"must be a positive finite number (got {XmoeTemperature})");
        OptionCheck.Require(AcEpsilon > 0 && double.IsFinite(AcEpsilon), nameof(AcEpsilon), $"must be a positive finite number (got {AcEpsilon})");
        // Below 1 the clip would cut even the mean weight and flatten every cluster's profile.
        OptionCheck.Require(AcClipMultiple >= 1 && double.IsFinite(AcClipMultiple), nameof(AcClipMultiple), $"must be a finite number >= 1 (got {AcClipMultiple})");
        OptionCheck.Require(AcMomentum is > 0 and <= 1, nameof(AcMomentum), $"must be in (0, 1] (got {AcMomentum})");
        OptionCheck.Require(Enum.IsDefined(AcEstimator), nameof(AcEstimator), $"unknown estimator {AcEstimator}");
    }
}
