using StatFormer.Language.Data;

namespace StatFormer.Language.Robustness;

/// <summary>
/// Finds the tokens an in-place word swap left untouched and where each one sits in the clean and in the attacked token stream,
/// exactly and for any tokenizer that reports token spans. The attack changes only the characters of its replacements, so a
/// clean character outside them has a known place in the attacked text (shifted by the length changes of the replacements
/// before it). A clean token is matched when
/// <list type="bullet">
/// <item>its span lies outside every replaced word (touching one at an edge is allowed: "AAA," still ends in the clean ",");</item>
/// <item>it is <em>distinct</em> in its stream: no other token's span overlaps it or equals it (so the byte pieces a BPE makes of
/// one multi-byte character, which share that character's span, are never matched);</item>
/// <item>the attacked stream has a distinct token at exactly the shifted span, with the same id.</item>
/// </list>
/// The pair is then the same characters encoded as the same token in both streams; everything else (the replacements and any
/// neighbour a tokenizer encodes differently because of them) is left out. No assumption about the tokenizer's locality is made:
/// a token that changed is simply not found.
/// </summary>
public static class UntouchedTargetAlignment
{
    /// <param name="clean">The clean text's tokens with spans (<see cref="ITokenizer.EncodeWithSpans"/>).</param>
    /// <param name="cleanTextLength">Length of the clean text.</param>
    /// <param name="attacked">The attacked text's tokens with spans, from the same tokenizer.</param>
    /// <param name="attackedTextLength">Length of the attacked text.</param>
    /// <param name="replacements">The attack's replacements (<see cref="WordSwapResult.Replacements"/>), in text order.</param>
    /// <returns>(clean index, attacked index) of every untouched token, in increasing clean index; null when a stream's spans are
    /// not in text order or leave the text, so that no exact alignment can be read from them.</returns>
    public static IReadOnlyList<(int Clean, int Attacked)>? Match(EncodedText clean, int cleanTextLength, EncodedText attacked,
        int attackedTextLength, IReadOnlyList<WordReplacement> replacements)
    {
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(attacked);
        ArgumentNullException.ThrowIfNull(replacements);
        ValidateReplacements(replacements, cleanTextLength, attackedTextLength);
        var cleanDistinct = DistinctTokens(clean, cleanTextLength);
        var attackedDistinct = DistinctTokens(attacked, attackedTextLength);
        if (cleanDistinct is null || attackedDistinct is null) return null;

        var attackedBySpan = new Dictionary<TokenSpan, int>();
        for (var j = 0; j < attacked.Spans.Length; j++)
            if (attackedDistinct[j]) attackedBySpan[attacked.Spans[j]] = j;

        var pairs = new List<(int Clean, int Attacked)>();
        int next = 0, shift = 0; // next: first replacement not wholly before the current token; shift: attacked − clean position there
        for (var i = 0; i < clean.Spans.Length; i++)
        {
            var span = clean.Spans[i];
            while (next < replacements.Count && replacements[next].CleanEnd <= span.Start)
            {
                shift += replacements[next].AttackedLength - replacements[next].CleanLength;
                next++;
            }
            // A replacement that starts before the token's end (for an empty span: before its position) overlaps it.
            if (next < replacements.Count && replacements[next].CleanStart < span.End) continue;
            if (!cleanDistinct[i]) continue;
            if (attackedBySpan.TryGetValue(new TokenSpan(span.Start + shift, span.Length), out var j) && attacked.Ids[j] == clean.Ids[i])
                pairs.Add((i, j));
        }
        return pairs;
    }

    /// <summary>
    /// True for each token whose span no other token's span overlaps or equals; null when the spans are not sorted by start or leave
    /// [0, <paramref name="textLength"/>].
    /// </summary>
    private static bool[]? DistinctTokens(EncodedText encoded, int textLength)
    {
        var spans = encoded.Spans;
        if (spans.Length != encoded.Ids.Length)
            throw new ArgumentException($"{spans.Length} spans for {encoded.Ids.Length} token ids", nameof(encoded));
        var distinct = new bool[spans.Length];
        var furthestEndBefore = 0;
        for (var i = 0; i < spans.Length; i++)
        {
            var span = spans[i];
            if (span.Start < 0 || span.Length < 0 || span.End > textLength) return null;
            if (i > 0 && span.Start < spans[i - 1].Start) return null;
            // Spans are sorted by start, so an overlap with a later token shows in the next one's start.
            var clearBefore = furthestEndBefore <= span.Start && (i == 0 || spans[i - 1] != span);
            var clearAfter = i + 1 == spans.Length || (spans[i + 1].Start >= span.End && spans[i + 1] != span);
            distinct[i] = clearBefore && clearAfter;
            furthestEndBefore = Math.Max(furthestEndBefore, span.End);
        }
        return distinct;
    }

    private static void ValidateReplacements(IReadOnlyList<WordReplacement> replacements, int cleanTextLength, int attackedTextLength)
    {
        int cleanEnd = 0, attackedEnd = 0;
        foreach (var r in replacements)
        {
            // Between two replacements both texts hold the same characters, so the gaps must be equally long.
            if (r.CleanStart < cleanEnd || r.CleanLength < 0 || r.AttackedLength < 0 || r.AttackedStart - attackedEnd != r.CleanStart - cleanEnd)
                throw new ArgumentException("replacements must be in text order, non-overlapping and keep the text between them", nameof(replacements));
            cleanEnd = r.CleanEnd;
            attackedEnd = r.AttackedStart + r.AttackedLength;
        }
        if (cleanEnd > cleanTextLength || cleanTextLength - cleanEnd != attackedTextLength - attackedEnd)
            throw new ArgumentException("replacements do not fit the two texts' lengths", nameof(replacements));
    }
}
