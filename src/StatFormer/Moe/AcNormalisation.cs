namespace StatFormer.Moe;

/// <summary>How the clipped AC feature weights are brought to a mean of 1 (../shared/research/acmoe.md §1.3).</summary>
public enum AcNormalisation
{
    /// <summary>
    /// Per feature: every feature's weights average 1 over the clusters (the authors' language-model code). A feature
    /// along which every cluster is tight weighs no more than one along which every cluster is wide: only the
    /// clusters' relative tightness moves the router.
    /// </summary>
    PerFeature,

    /// <summary>
    /// Globally: the weights are divided by their mean over every cluster and feature (the authors' Soft MoE code,
    /// after the clip; their Swin code divides by the mean before the clip, a factor ≤ 1 on every weight). Features
    /// along which the clusters are tight overall are also amplified for every token.
    /// </summary>
    Global,
}
