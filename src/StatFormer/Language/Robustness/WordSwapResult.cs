namespace StatFormer.Language.Robustness;

/// <summary>The attacked text and how much of it was changed.</summary>
/// <param name="Text">The attacked text; same lines and same whitespace as the input, only the swapped words differ.</param>
/// <param name="WordsSwapped">Words replaced.</param>
/// <param name="SwappableWords">Words that were eligible (not stop-words).</param>
/// <param name="TotalWords">All words, as TextAttack's <c>words_from_text</c> counts them (punctuation is not a word; see <see cref="WordSwapAttack.WordSpans"/>).</param>
/// <param name="Replacements">Every replaced word, in text order: where it was in the input and where its replacement is in <paramref name="Text"/>.
/// All other characters of the two texts are identical, in order.</param>
public sealed record WordSwapResult(string Text, int WordsSwapped, int SwappableWords, int TotalWords, IReadOnlyList<WordReplacement> Replacements)
{
    /// <summary>Swapped fraction of all words; above the nominal rate on corpora with many short lines (at least one swap per line).</summary>
    public double EffectiveRate => TotalWords == 0 ? 0 : (double)WordsSwapped / TotalWords;
}

/// <summary>One swapped word: characters [CleanStart, CleanStart + CleanLength) of the clean text became [AttackedStart, AttackedStart + AttackedLength) of the attacked one.</summary>
public readonly record struct WordReplacement(int CleanStart, int CleanLength, int AttackedStart, int AttackedLength)
{
    public int CleanEnd => CleanStart + CleanLength;
}
