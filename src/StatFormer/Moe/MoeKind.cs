namespace StatFormer.Moe;

/// <summary>
/// Which feed-forward sublayer a block uses: dense (<see cref="None"/>), a mixture of experts with a linear
/// router (SMoE), with a cosine router in a low-dimensional space (XMoE), or either of those behind the
/// adaptive-clustering (AC) router, which rescales the router input by per-cluster feature weights
/// computed from the previous MoE layer's assignments.
/// </summary>
public enum MoeKind
{
    None,
    Smoe,
    Xmoe,
    AcSmoe,
    AcXmoe,
}
