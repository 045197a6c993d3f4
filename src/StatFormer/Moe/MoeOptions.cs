using StatFormer.Options;

namespace StatFormer.Moe;

/// <summary>
/// Hyperparameters of a mixture-of-experts feed-forward layer. <see cref="Validate"/> throws an
/// <see cref="ArgumentException"/> whose ParamName is the offending property.
/// </summary>
public sealed record MoeOptions
{
    /// <summary>Number of experts E.</summary>
    public int Experts { get; init; } = 8;

    /// <summary>Experts per token k (top-k routing).</summary>
    public int TopK { get; init; } = 2;

    /// <summary>Hidden width of each expert's MLP; null: FfnMultiplier·DModel / TopK, resolved by the stack (so a token's active FFN parameters match the dense model's).</summary>
    public int? ExpertHidden { get; init; }

    /// <summary>Dropout on the layer's combined output (as in the dense feed-forward); null: the stack's dropout (0 for a layer built on its own).</summary>
    public double? Dropout { get; init; }

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

    /// <summary>AC weights are clipped at this multiple of their mean before the normalisation.</summary>
    public double AcClipMultiple { get; init; } = 10.0;

    /// <summary>How the clipped AC weights are brought to a mean of 1: per feature (the authors' LM code) or globally (their Soft MoE code).</summary>
    public AcNormalisation AcNormalisation { get; init; } = AcNormalisation.PerFeature;

    /// <summary>
    /// AC per-token weights: false = the weights of the token's previous top-1 cluster (the released LM code);
    /// true = the previous gate-weighted mix of the weights of all k previous clusters.
    /// </summary>
    public bool AcMixTopK { get; init; } = false;

    /// <summary>Soft MoE: slots per expert (each slot is a weighted average of an image's tokens, processed by its expert).</summary>
    public int SlotsPerExpert { get; init; } = 1;

    /// <summary>
    /// AC-Soft MoE: a token's AC feature weights are the mix of the weights of the clusters (experts) of its top this-many slots
    /// in the previous Soft MoE layer, weighted by the softmax over those slot logits (the authors: 8); capped at the slots.
    /// </summary>
    public int AcMixSlots { get; init; } = 8;

    /// <summary>What the AC-scaled token feeds: the router only (the LM rule) or the router and the experts (the authors' image models).</summary>
    public AcScaledInput AcScaledInput { get; init; } = AcScaledInput.Router;

    /// <summary>Where the AC spreads come from: running statistics of past batches (causal) or the current batch (the authors' rule, leaks in a causal LM).</summary>
    public AcEstimator AcEstimator { get; init; } = AcEstimator.Running;

    /// <summary>Weight of the newest batch in the running AC statistics (BatchNorm's momentum; ≈ 1/momentum batches remembered).</summary>
    public double AcMomentum { get; init; } = 0.1;

    public void Validate()
    {
        OptionCheck.Require(Experts >= 1, nameof(Experts), $"Experts must be at least 1 (got {Experts})");
        OptionCheck.Require(TopK >= 1, nameof(TopK), $"TopK must be at least 1 (got {TopK})");
        OptionCheck.Require(TopK <= Experts, nameof(TopK), $"TopK ({TopK}) exceeds Experts ({Experts})");
        OptionCheck.Require(ExpertHidden is null or >= 1, nameof(ExpertHidden), $"ExpertHidden must be at least 1 (got {ExpertHidden})");
        OptionCheck.Require(Dropout is null or (>= 0 and < 1), nameof(Dropout), $"Dropout must be in [0, 1) (got {Dropout})");
        OptionCheck.Require(CapacityFactor >= 0 && !double.IsInfinity(CapacityFactor), nameof(CapacityFactor),
            $"CapacityFactor must be 0 (no limit) or a positive finite number (got {CapacityFactor})");
        OptionCheck.Require(XmoeDim >= 1, nameof(XmoeDim), $"XmoeDim must be at least 1 (got {XmoeDim})");
        OptionCheck.Require(XmoeTemperature > 0 && !double.IsInfinity(XmoeTemperature), nameof(XmoeTemperature),
            $"XmoeTemperature must be a positive finite number (got {XmoeTemperature})");
        OptionCheck.Require(AcEpsilon > 0 && !double.IsInfinity(AcEpsilon), nameof(AcEpsilon), $"AcEpsilon must be a positive finite number (got {AcEpsilon})");
        // Below 1 the clip would cut even the mean weight and flatten every cluster's profile.
        OptionCheck.Require(AcClipMultiple >= 1 && !double.IsInfinity(AcClipMultiple), nameof(AcClipMultiple),
            $"AcClipMultiple must be a finite number >= 1 (got {AcClipMultiple})");
        OptionCheck.Require(SlotsPerExpert >= 1, nameof(SlotsPerExpert), $"SlotsPerExpert must be at least 1 (got {SlotsPerExpert})");
        OptionCheck.Require(Enum.IsDefined(AcNormalisation), nameof(AcNormalisation), $"unknown AcNormalisation {AcNormalisation}");
        OptionCheck.Require(AcMixSlots >= 1, nameof(AcMixSlots), $"AcMixSlots must be at least 1 (got {AcMixSlots})");
        OptionCheck.Require(Enum.IsDefined(AcScaledInput), nameof(AcScaledInput), $"unknown AcScaledInput {AcScaledInput}");
        OptionCheck.Require(AcMomentum > 0 && AcMomentum <= 1, nameof(AcMomentum), $"AcMomentum (the AC running-statistics momentum) must be in (0, 1] (got {AcMomentum})");
    }
}
