namespace StatFormer.Language.Robustness;

/// <summary>Settings of the word-swap attack.</summary>
/// <param name="Rate">Fraction of each line's words to swap, in [0, 1] (the paper uses 0.015); any non-zero rate swaps at least one word per line that has a swappable word.</param>
/// <param name="Mode">Replacement kind.</param>
/// <param name="OovToken">Replacement string in <see cref="WordSwapMode.OutOfVocabulary"/> mode; must be one whitespace-free word.</param>
/// <param name="Seed">Seed of the single random stream used for the whole text.</param>
/// <param name="Unit">What the swap count max(⌊rate·w⌋, 1) is computed over: each line (the paper's protocol on WikiText, whose lines are
/// paragraphs) or each paragraph (blank-line separated; for texts with very short lines such as plays or verse, where the per-line
/// minimum of one swap would otherwise dominate every rate).</param>
public sealed record WordSwapOptions(double Rate, WordSwapMode Mode = WordSwapMode.OutOfVocabulary, string OovToken = "AAA", int Seed = 0,
    WordSwapUnit Unit = WordSwapUnit.Line);
