using StatFormer.Options;
using StatFormer.Attention;
using StatFormer.Moe;

namespace StatFormer.Language.Experiments;

/// <summary>
/// One model of a comparison: an attention kind and a feed-forward kind (dense or an MoE router).
/// Named "softmax", "elliptical", "smoe", "ac-xmoe", or "elliptical+ac-smoe" when both differ from the
/// standard (the two mechanisms compose).
/// </summary>
public sealed record ModelVariant(AttentionKind Attention, MoeKind Moe)
{
    public static readonly ModelVariant Softmax = new(AttentionKind.Softmax, MoeKind.None);
    public static readonly ModelVariant Elliptical = new(AttentionKind.Elliptical, MoeKind.None);

    public string Name => Moe == MoeKind.None ? EnumNames.Cli(Attention)
        : Attention == AttentionKind.Softmax ? EnumNames.Cli(Moe)
        : $"{EnumNames.Cli(Attention)}+{EnumNames.Cli(Moe)}";

    public override string ToString() => Name;

    /// <summary>Parses a variant name; throws <see cref="UserInputException"/> naming <paramref name="option"/> and the valid names.</summary>
    public static ModelVariant Parse(string text, string option = "--variants")
    {
        var parts = text.Trim().ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries);
        AttentionKind? attention = null;
        MoeKind? moe = null;
        foreach (var part in parts)
        {
            if (attention is null && EnumNames.TryParse(typeof(AttentionKind), part) is AttentionKind a) attention = a;
            else if (moe is null && EnumNames.TryParse(typeof(MoeKind), part) is MoeKind m) moe = m;
            else throw new UserInputException(
                $"{option}: '{text}' is not a model variant; use an attention (softmax, elliptical), an MoE router (none, smoe, xmoe, ac-smoe, ac-xmoe) or both joined by '+', e.g. elliptical+ac-smoe");
        }
        return new ModelVariant(attention ?? AttentionKind.Softmax, moe ?? MoeKind.None);
    }

    /// <summary>A comma-separated list of variants, duplicates removed, order kept.</summary>
    public static IReadOnlyList<ModelVariant> ParseList(string text, string option = "--variants")
    {
        var variants = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Parse(v, option)).Distinct().ToList();
        if (variants.Count == 0) throw new UserInputException($"{option} must name at least one model variant");
        return variants;
    }
}
