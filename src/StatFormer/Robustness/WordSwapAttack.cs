using System.Globalization;
using System.Text;

namespace StatFormer.Robustness;

/// <summary>
/// The paper's WordAttack corruption (TextAttack AAAWordSwap + StopwordModification, pct_words_to_swap), applied to
/// evaluation text only. Per line (or per paragraph, see <see cref="WordSwapUnit"/>), with w whitespace-separated words of which some are swappable (see
/// <see cref="StopWords"/>), it replaces max(⌊rate·w⌋, 1) of them, capped at the swappable count, chosen uniformly
/// without replacement. Lines are split on '\n'; each chosen word is replaced in place, so every other character
/// (line breaks, '\r', runs of spaces) is kept verbatim and the word count per line never changes, which keeps a
/// word-level tokenisation of the attacked text aligned with the clean one.
/// </summary>
public static class WordSwapAttack
{
    /// <summary>Guards ⌊rate·w⌋ against products such as 0.29·100 = 28.999… that are meant to be integers.</summary>
    private const double FloorTolerance = 1e-9;

    /// <param name="text">Clean text.</param>
    /// <param name="options">Rate, mode and seed. One <see cref="Random"/> seeded with <see cref="WordSwapOptions.Seed"/> drives the
    /// whole text, so the same (text, options) always gives the same corruption and every model in a comparison sees the same draw.</param>
    /// <param name="substitutionVocabulary">Replacement words for <see cref="WordSwapMode.RandomSubstitution"/> (required there, ignored otherwise).</param>
    public static WordSwapResult Apply(string text, WordSwapOptions options, IReadOnlyList<string>? substitutionVocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options, substitutionVocabulary);

        var random = new Random(options.Seed);
        var output = new StringBuilder(text.Length + text.Length / 16);
        var words = new List<(int Start, int Length)>();
        var swappable = new List<int>();
        int swapped = 0, swappableTotal = 0, wordsTotal = 0, copied = 0;

        foreach (var (unitStart, unitLength) in Units(text, options.Unit))
        {
            var unit = text.AsSpan(unitStart, unitLength);
            FindWords(unit, words);
            swappable.Clear();
            for (int i = 0; i < words.Count; i++)
                if (!StopWords.Contains(unit.Slice(words[i].Start, words[i].Length).ToString())) swappable.Add(i);
            wordsTotal += words.Count;
            swappableTotal += swappable.Count;

            int toSwap = options.Rate == 0 || swappable.Count == 0
                ? 0
                : Math.Min(Math.Max((int)Math.Floor(options.Rate * words.Count + FloorTolerance), 1), swappable.Count);
            if (toSwap == 0) continue;

            // Partial Fisher–Yates: the first toSwap entries become a uniform sample without replacement.
            for (int i = 0; i < toSwap; i++)
            {
                int j = random.Next(i, swappable.Count);
                (swappable[i], swappable[j]) = (swappable[j], swappable[i]);
            }
            swappable.RemoveRange(toSwap, swappable.Count - toSwap);
            swappable.Sort();
            foreach (var index in swappable)
            {
                var start = unitStart + words[index].Start;
                var length = words[index].Length;
                output.Append(text, copied, start - copied);
                output.Append(Replacement(text.Substring(start, length), options, substitutionVocabulary, random));
                copied = start + length;
            }
            swapped += toSwap;
        }
        output.Append(text, copied, text.Length - copied);
        return new WordSwapResult(output.ToString(), swapped, swappableTotal, wordsTotal);
    }

    /// <summary>
    /// The (start, length) ranges the swap count is computed over: every line, or every paragraph (a maximal run
    /// of non-blank lines; blank lines are units without words).
    /// </summary>
    private static IEnumerable<(int Start, int Length)> Units(string text, WordSwapUnit unit)
    {
        int lineStart = 0, paragraphStart = -1, paragraphEnd = 0;
        while (true)
        {
            int newline = text.IndexOf('\n', lineStart);
            int lineEnd = newline < 0 ? text.Length : newline;
            if (unit == WordSwapUnit.Line)
            {
                yield return (lineStart, lineEnd - lineStart);
            }
            else if (text.AsSpan(lineStart, lineEnd - lineStart).IsWhiteSpace())
            {
                if (paragraphStart >= 0) yield return (paragraphStart, paragraphEnd - paragraphStart);
                paragraphStart = -1;
            }
            else
            {
                if (paragraphStart < 0) paragraphStart = lineStart;
                paragraphEnd = lineEnd;
            }
            if (newline < 0) break;
            lineStart = newline + 1;
        }
        if (paragraphStart >= 0) yield return (paragraphStart, paragraphEnd - paragraphStart);
    }

    private static void Validate(WordSwapOptions options, IReadOnlyList<string>? vocabulary)
    {
        if (!(options.Rate >= 0 && options.Rate <= 1))
            throw new UserInputException(
                $"--attack-rate must be between 0 and 1, got {options.Rate.ToString(CultureInfo.InvariantCulture)}.");

        switch (options.Mode)
        {
            case WordSwapMode.OutOfVocabulary:
                if (!IsSingleWord(options.OovToken))
                    throw new UserInputException($"--oov-token must be one non-empty word without whitespace, got '{options.OovToken}'.");
                break;
            case WordSwapMode.RandomSubstitution:
                if (vocabulary is null)
                    throw new ArgumentException("RandomSubstitution mode needs a substitution vocabulary.", nameof(vocabulary));
                foreach (var word in vocabulary)
                    if (!IsSingleWord(word))
                        throw new ArgumentException($"Substitution vocabulary entry '{word}' is not one non-empty word without whitespace.", nameof(vocabulary));
                // With two distinct words every original has a different candidate, so the re-draw loop ends.
                if (vocabulary.Distinct(StringComparer.Ordinal).Take(2).Count() < 2)
                    throw new ArgumentException("Substitution vocabulary needs at least two distinct words.", nameof(vocabulary));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "Unknown word-swap mode.");
        }
    }

    private static bool IsSingleWord(string? word) =>
        !string.IsNullOrEmpty(word) && !word.Any(char.IsWhiteSpace);

    private static string Replacement(string original, WordSwapOptions options, IReadOnlyList<string>? vocabulary, Random random)
    {
        if (options.Mode == WordSwapMode.OutOfVocabulary) return options.OovToken;
        string candidate;
        do candidate = vocabulary![random.Next(vocabulary.Count)];
        while (string.Equals(candidate, original, StringComparison.Ordinal));
        return candidate;
    }

    /// <summary>Fills <paramref name="words"/> with the (start, length) of each maximal run of non-whitespace characters.</summary>
    private static void FindWords(ReadOnlySpan<char> line, List<(int Start, int Length)> words)
    {
        words.Clear();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            if (i > start) words.Add((start, i - start));
        }
    }
}
