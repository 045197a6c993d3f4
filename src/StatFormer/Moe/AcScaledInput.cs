namespace StatFormer.Moe;

/// <summary>What the token scaled by its cluster's AC feature weights feeds inside an AC MoE layer (the rest sees the raw token).</summary>
public enum AcScaledInput
{
    /// <summary>The router only; the experts get the raw token. The authors' language-model code, and ours in the language models.</summary>
    Router,

    /// <summary>
    /// The router and the experts: the scaled token replaces the token in the whole MoE layer. The authors' Swin-MoE code
    /// (<c>x = w * x</c> after the second LayerNorm) and their Soft MoE code (the scaled token enters the slot logits and
    /// the dispatched slots); the reference placement for image models.
    /// </summary>
    RouterAndExperts,
}
