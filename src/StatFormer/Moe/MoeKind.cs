namespace StatFormer.Moe;

/// <summary>
/// Which feed-forward sublayer a block uses: dense (<see cref="None"/>), a mixture of experts with a linear
/// router (SMoE), with a cosine router in a low-dimensional space (XMoE), or either of those behind the
/// adaptive-clustering (AC) router, which rescales the router input by per-cluster feature weights
/// computed from the previous MoE layer's assignments; or a Soft MoE layer (Puigcerver et al. 2023: every slot
/// takes a weighted average of all tokens of an image, no token is dropped), plain or behind the AC router.
/// Soft MoE mixes every token of a sequence into every slot, so it is not causal: image models only.
/// </summary>
public enum MoeKind
{
    None,
    Smoe,
    Xmoe,
    AcSmoe,
    AcXmoe,
    SoftMoe,
    AcSoftMoe,
}
