namespace StatFormer.Robustness;

/// <summary>The attacked text and how much of it was changed.</summary>
/// <param name="Text">The attacked text; same lines and same number of words per line as the input.</param>
/// <param name="WordsSwapped">Words replaced.</param>
/// <param name="SwappableWords">Words that were eligible (not stop-words, punctuation or corpus markers).</param>
/// <param name="TotalWords">All whitespace-separated words.</param>
public sealed record WordSwapResult(string Text, int WordsSwapped, int SwappableWords, int TotalWords)
{
    /// <summary>Swapped fraction of all words; above the nominal rate on corpora with many short lines (at least one swap per line).</summary>
    public double EffectiveRate => TotalWords == 0 ? 0 : (double)WordsSwapped / TotalWords;
}
