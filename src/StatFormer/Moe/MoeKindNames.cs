namespace StatFormer.Moe;

/// <summary>Simple facts about each <see cref="MoeKind"/> (its names are <see cref="Options.EnumNames"/>'s: none, smoe, xmoe, ac-smoe, ac-xmoe).</summary>
public static class MoeKindNames
{
    /// <summary>True for the kinds whose router needs the previous MoE layer's routing.</summary>
    public static bool IsAdaptive(MoeKind kind) => kind is MoeKind.AcSmoe or MoeKind.AcXmoe;

    /// <summary>The router an AC kind wraps (AcSmoe → Smoe, AcXmoe → Xmoe); other kinds map to themselves.</summary>
    public static MoeKind BaseOf(MoeKind kind) => kind switch
    {
        MoeKind.AcSmoe => MoeKind.Smoe,
        MoeKind.AcXmoe => MoeKind.Xmoe,
        _ => kind,
    };
}
