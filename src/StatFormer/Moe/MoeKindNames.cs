namespace StatFormer.Moe;

/// <summary>Simple facts about each <see cref="MoeKind"/> (its names are <see cref="Options.EnumNames"/>'s: none, smoe, xmoe, ac-smoe, ac-xmoe, soft-moe, ac-soft-moe).</summary>
public static class MoeKindNames
{
    /// <summary>True for the kinds whose router needs the previous MoE layer's routing.</summary>
    public static bool IsAdaptive(MoeKind kind) => kind is MoeKind.AcSmoe or MoeKind.AcXmoe or MoeKind.AcSoftMoe;

    /// <summary>True for the Soft MoE kinds (slots, no top-k, not causal: image models only).</summary>
    public static bool IsSoft(MoeKind kind) => kind is MoeKind.SoftMoe or MoeKind.AcSoftMoe;

    /// <summary>The router an AC kind wraps (AcSmoe → Smoe, AcXmoe → Xmoe, AcSoftMoe → SoftMoe); other kinds map to themselves.</summary>
    public static MoeKind BaseOf(MoeKind kind) => kind switch
    {
        MoeKind.AcSmoe => MoeKind.Smoe,
        MoeKind.AcXmoe => MoeKind.Xmoe,
        MoeKind.AcSoftMoe => MoeKind.SoftMoe,
        _ => kind,
    };
}
