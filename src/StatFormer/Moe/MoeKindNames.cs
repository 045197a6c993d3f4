namespace StatFormer.Moe;

/// <summary>The command-line spellings of <see cref="MoeKind"/> (none, smoe, xmoe, ac-smoe, ac-xmoe) and simple facts about each kind.</summary>
public static class MoeKindNames
{
    private static readonly (MoeKind Kind, string Name)[] Names =
    {
        (MoeKind.None, "none"),
        (MoeKind.Smoe, "smoe"),
        (MoeKind.Xmoe, "xmoe"),
        (MoeKind.AcSmoe, "ac-smoe"),
        (MoeKind.AcXmoe, "ac-xmoe"),
    };

    /// <summary>All CLI spellings, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = Names.Select(n => n.Name).ToArray();

    public static string ToCli(MoeKind kind)
    {
        foreach (var (k, name) in Names)
            if (k == kind) return name;
        throw new ArgumentException($"unknown MoE kind {(int)kind}");
    }

    /// <summary>Parses a CLI spelling (case-insensitive); the error lists the accepted names.</summary>
    public static MoeKind Parse(string text)
    {
        var trimmed = text?.Trim() ?? "";
        foreach (var (kind, name) in Names)
            if (string.Equals(name, trimmed, StringComparison.OrdinalIgnoreCase)) return kind;
        throw new ArgumentException($"unknown MoE kind '{text}' (valid: {string.Join(", ", All)})");
    }

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
