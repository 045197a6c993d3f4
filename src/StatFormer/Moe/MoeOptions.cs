namespace StatFormer.Moe;

/// <summary>
/// Hyperparameters of a mixture-of-experts feed-forward layer. <see cref="Validate"/> names the CLI option of
/// any bad value so the command line can show it as is.
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

    public void Validate()
    {
        if (Experts < 1) throw new ArgumentException($"--experts must be at least 1 (got {Experts})");
        if (TopK < 1) throw new ArgumentException($"--top-k must be at least 1 (got {TopK})");
        if (TopK > Experts) throw new ArgumentException($"--top-k: top-k ({TopK}) exceeds --experts ({Experts})");
        if (ExpertHidden < 1) throw new ArgumentException($"--expert-hidden must be at least 1 (got {ExpertHidden})");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"--dropout must be in [0, 1) (got {Dropout})");
        if (!(CapacityFactor >= 0) || double.IsInfinity(CapacityFactor))
            throw new ArgumentException($"--capacity-factor must be 0 (no limit) or a positive finite number (got {CapacityFactor})");
        if (XmoeDim < 1) throw new ArgumentException($"--xmoe-dim must be at least 1 (got {XmoeDim})");
        if (!(XmoeTemperature > 0) || double.IsInfinity(XmoeTemperature))
            throw new ArgumentException($"--xmoe-temperature must be a positive finite number (got {XmoeTemperature})");
        if (!(AcEpsilon > 0) || double.IsInfinity(AcEpsilon))
            throw new ArgumentException($"--ac-epsilon must be a positive finite number (got {AcEpsilon})");
        // Below 1 the clip would cut even the mean weight and flatten every cluster's profile.
        if (!(AcClipMultiple >= 1) || double.IsInfinity(AcClipMultiple))
            throw new ArgumentException($"--ac-clip-multiple must be a finite number >= 1 (got {AcClipMultiple})");
        if (!(AcMomentum > 0 && AcMomentum <= 1))
            throw new ArgumentException($"the AC running-statistics momentum must be in (0, 1] (got {AcMomentum})");
    }
}
