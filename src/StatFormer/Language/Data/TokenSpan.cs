namespace StatFormer.Language.Data;

/// <summary>
/// The characters of the encoded text a token was produced from: [Start, Start + Length) in UTF-16 code units.
/// Length 0 marks a token that stands for no character (the word tokenizer's <c>&lt;eos&gt;</c> after a last line without a newline).
/// </summary>
public readonly record struct TokenSpan(int Start, int Length)
{
    public int End => Start + Length;
}

/// <summary>Token ids of a text together with the span of the text each one came from (same length, same order).</summary>
public sealed record EncodedText(int[] Ids, TokenSpan[] Spans);
