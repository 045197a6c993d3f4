using StatFormer.Attention;
using StatFormer.Moe;
using StatFormer.Options;

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

    /// <summary>Parses a variant name.</summary>
    /// <param name="property">The option property the name is for: the ParamName of the exception.</param>
    /// <exception cref="ArgumentException">Not a variant name; the message lists the valid ones.</exception>
    public static ModelVariant Parse(string text, string property = nameof(LmComparisonOptions.Variants))
    {
        var parts = text.Trim().ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries);
        AttentionKind? attention = null;
        MoeKind? moe = null;
        foreach (var part in parts)
        {
            if (attention is null && EnumNames.TryParse(typeof(AttentionKind), part) is AttentionKind a) attention = a;
            else if (moe is null && EnumNames.TryParse(typeof(MoeKind), part) is MoeKind m) moe = m;
            else throw new ArgumentException(
                $"'{text}' is not a model variant; use an attention ({string.Join(", ", EnumNames.CliNames<AttentionKind>())}), " +
                $"an MoE router ({string.Join(", ", EnumNames.CliNames<MoeKind>())}) or both joined by '+', e.g. elliptical+ac-smoe", property);
        }
        return new ModelVariant(attention ?? AttentionKind.Softmax, moe ?? MoeKind.None);
    }

    /// <summary>A comma-separated list of variants, duplicates removed, order kept.</summary>
    public static IReadOnlyList<ModelVariant> ParseList(string text, string property = nameof(LmComparisonOptions.Variants))
    {
        var variants = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Parse(v, property)).Distinct().ToList();
        OptionCheck.Require(variants.Count > 0, property, "must name at least one model variant");
        return variants;
    }
}
