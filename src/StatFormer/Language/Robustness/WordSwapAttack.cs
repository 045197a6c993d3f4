using System.Globalization;
using System.Text;

namespace StatFormer.Language.Robustness;

/// <summary>
/// The paper's WordAttack corruption (TextAttack AAAWordSwap + StopwordModification, pct_words_to_swap), applied to
/// evaluation text only. Per line (or per paragraph, see <see cref="WordSwapUnit"/>) it finds the words as TextAttack's
/// <c>words_from_text</c> does (see <see cref="WordSpans"/>: punctuation is not a word), w of them, of which those that are not
/// <see cref="StopWords"/> (case-sensitive) are swappable, and replaces max(⌊rate·w⌋, 1) of them, capped at the swappable count,
/// chosen uniformly without replacement. Lines are split on '\n'; each chosen word is replaced in place, so every other character
/// (punctuation attached to the word, line breaks, '\r', runs of spaces) is kept verbatim and no whitespace is added or removed,
/// which keeps a whitespace-word tokenisation of the attacked text aligned with the clean one; <see cref="WordSwapResult.Replacements"/>
/// says exactly which characters changed, for any other tokenisation.
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
        var replacements = new List<WordReplacement>();
        var words = new List<(int Start, int Length)>();
        var swappable = new List<int>();
        int swapped = 0, swappableTotal = 0, wordsTotal = 0, copied = 0;

        foreach (var (unitStart, unitLength) in Units(text, options.Unit))
        {
            var unit = text.AsSpan(unitStart, unitLength);
            FindWords(unit, words);
            swappable.Clear();
            for (int i = 0; i < words.Count; i++)
                if (!StopWords.Contains(unit.Slice(words[i].Start, words[i].Length))) swappable.Add(i);
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
                var replacement = Replacement(text.Substring(start, length), options, substitutionVocabulary, random);
                replacements.Add(new WordReplacement(start, length, output.Length, replacement.Length));
                output.Append(replacement);
                copied = start + length;
            }
            swapped += toSwap;
        }
        output.Append(text, copied, text.Length - copied);
        return new WordSwapResult(output.ToString(), swapped, swappableTotal, wordsTotal, replacements);
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
            throw new ArgumentException(
                $"Rate must be between 0 and 1, got {options.Rate.ToString(CultureInfo.InvariantCulture)}.", nameof(options));

        switch (options.Mode)
        {
            case WordSwapMode.OutOfVocabulary:
                if (!IsSingleWord(options.OovToken))
                    throw new ArgumentException($"OovToken must be one non-empty word without whitespace, got '{options.OovToken}'.", nameof(options));
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

    /// <summary>
    /// The (start, length) of every word of <paramref name="text"/> in TextAttack's sense (<c>words_from_text</c> of the current
    /// release, without its Chinese segmentation): a maximal run of word characters — letters, numbers and '_' (Python's \w), the
    /// inner-word marks ' - * @ and the homoglyphs ˗ ` × that TextAttack also admits — with its leading ' - _ * @ removed; a run
    /// left empty is no word. So punctuation-only tokens (",", "(", "@-@", "=") are not words, "don't", "co-operation" and "2011"
    /// are one word each, "Hello," is the word "Hello" and "&lt;unk&gt;" the word "unk".
    /// </summary>
    public static IReadOnlyList<(int Start, int Length)> WordSpans(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<(int Start, int Length)>();
        FindWords(text, words);
        return words;
    }

    private static void FindWords(ReadOnlySpan<char> line, List<(int Start, int Length)> words)
    {
        words.Clear();
        int i = 0;
        while (i < line.Length)
        {
            if (!IsWordCharacter(line, i, out var width))
            {
                i += width;
                continue;
            }
            int start = i;
            do i += width;
            while (i < line.Length && IsWordCharacter(line, i, out width));
            while (start < i && IsLeadingMark(line[start])) start++;
            if (i > start) words.Add((start, i - start));
        }
    }

    /// <summary>Marks TextAttack allows inside and at the end of a word but strips from its start.</summary>
    private static bool IsLeadingMark(char c) => c is '\'' or '-' or '_' or '*' or '@';

    /// <summary>Whether the code point at <paramref name="index"/> belongs to a word; <paramref name="width"/> is its UTF-16 length.</summary>
    private static bool IsWordCharacter(ReadOnlySpan<char> text, int index, out int width)
    {
        if (Rune.DecodeFromUtf16(text[index..], out var rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1; // a lone surrogate is no letter
            return false;
        }
        if (rune.Value is '\'' or '-' or '_' or '*' or '@' or '\u02D7' or '`' or '\u00D7') return true;
        // Python's \w: str.isalnum() (letters and every numeric category) or '_'; combining marks are not word characters there.
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }
}
