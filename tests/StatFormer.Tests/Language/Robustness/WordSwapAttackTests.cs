using StatFormer.Language.Robustness;

namespace StatFormer.Tests.Language.Robustness;

public class WordSwapAttackTests
{
    private static string[] Words(string line) => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Lines of distinct content words ("alpha12x3") that no stop-word list contains.</summary>
    private static string ContentText(int lines, int wordsPerLine) =>
        string.Join("\n", Enumerable.Range(0, lines).Select(l =>
            string.Join(" ", Enumerable.Range(0, wordsPerLine).Select(w => $"alpha{l}x{w}"))));

    private const string MixedText =
        " = Valkyria Chronicles III = \n" +
        "\n" +
        " The game was released in January 2011 , and it is the third game in the series .\n" +
        " Senjō no Valkyria 3 : <unk> Chronicles ( Japanese : 戦場のヴァルキュリア3 , lit . Valkyria of the Battlefield 3 )\n" +
        " It met with positive sales in Japan , and was praised by both Japanese and western critics @-@ alike .\n" +
        " of the and a\n" +
        "The  quick\tbrown   fox jumps over the lazy dog\r\n" +
        "last line without newline";

    [Fact]
    public void SwapsTheStatedFractionOfEachLine()
    {
        var result = WordSwapAttack.Apply(ContentText(1000, 20), new WordSwapOptions(0.1, Seed: 7));

        var lines = result.Text.Split('\n');
        Assert.Equal(1000, lines.Length);
        Assert.All(lines, line => Assert.Equal(2, Words(line).Count(w => w == "AAA")));
        Assert.Equal(2000, result.WordsSwapped);
        Assert.Equal(20000, result.TotalWords);
        Assert.Equal(20000, result.SwappableWords);
        Assert.Equal(0.1, result.EffectiveRate, 12);
    }

    [Fact]
    public void ShortLinesGetAtLeastOneSwap()
    {
        var result = WordSwapAttack.Apply(ContentText(50, 3), new WordSwapOptions(0.015, Seed: 1));

        Assert.All(result.Text.Split('\n'), line => Assert.Equal(1, Words(line).Count(w => w == "AAA")));
        Assert.Equal(50, result.WordsSwapped);
    }

    [Fact]
    public void SwapCountIsCappedByTheSwappableWords()
    {
        // 10 words, rate 0.5 → 5 wanted, but only 2 are not stop-words.
        var result = WordSwapAttack.Apply("the cat of a dog and the or but if", new WordSwapOptions(0.5));
        Assert.Equal("the AAA of a AAA and the or but if", result.Text);
        Assert.Equal(2, result.WordsSwapped);
        Assert.Equal(2, result.SwappableWords);
    }

    [Fact]
    public void OnlyNonStopWordsAreReplacedAndEveryOtherCharacterIsKept()
    {
        var clean = string.Concat(Enumerable.Repeat(MixedText + "\n", 40));
        var words = WordSwapAttack.WordSpans(clean).ToHashSet();
        for (int seed = 0; seed < 10; seed++)
        {
            var result = WordSwapAttack.Apply(clean, new WordSwapOptions(0.3, Seed: seed));
            Assert.Equal(result.WordsSwapped, result.Replacements.Count);
            var rebuilt = new System.Text.StringBuilder();
            var copied = 0;
            foreach (var r in result.Replacements)
            {
                var word = clean.Substring(r.CleanStart, r.CleanLength);
                Assert.Contains((r.CleanStart, r.CleanLength), words);
                Assert.False(StopWords.Contains(word), $"stop-word '{word}' was swapped");
                Assert.Equal("AAA", result.Text.Substring(r.AttackedStart, r.AttackedLength));
                rebuilt.Append(clean, copied, r.CleanStart - copied).Append("AAA");
                copied = r.CleanEnd;
            }
            rebuilt.Append(clean, copied, clean.Length - copied);
            Assert.Equal(result.Text, rebuilt.ToString());
        }
    }

    [Fact]
    public void WordsAreTextAttackWordsAndPunctuationIsNone()
    {
        const string line = " = Valkyria , the ( lit . ) @-@ @,@ co-operation don't -start 'quoted' <unk> x*y e-mail@host Hello,world 2011 戦場のヴァルキュリア3 naïve ...";
        var words = WordSwapAttack.WordSpans(line).Select(w => line.Substring(w.Start, w.Length));
        // Hand-checked against TextAttack's words_from_text: runs of \w plus ' - * @, leading ' - _ * @ stripped.
        Assert.Equal(new[]
        {
            "Valkyria", "the", "lit", "co-operation", "don't", "start", "quoted'", "unk", "x*y", "e-mail@host", "Hello", "world",
            "2011", "戦場のヴァルキュリア3", "naïve",
        }, words);
    }

    [Fact]
    public void PunctuationDoesNotCountTowardsTheNumberOfWords()
    {
        // 20 whitespace tokens, 10 of them words: TextAttack swaps ⌊0.2·10⌋ = 2, not ⌊0.2·20⌋ = 4.
        var result = WordSwapAttack.Apply("alpha , bravo , charlie , delta , echo , foxtrot , golf , hotel , india , juliet .",
            new WordSwapOptions(0.2, Seed: 1));
        Assert.Equal(10, result.TotalWords);
        Assert.Equal(10, result.SwappableWords);
        Assert.Equal(2, result.WordsSwapped);
        Assert.Equal(0.2, result.EffectiveRate, 12);
        Assert.Equal(2, Words(result.Text).Count(w => w == "AAA"));
        Assert.Equal(10, Words(result.Text).Count(w => w is "," or "."));
    }

    [Fact]
    public void StopWordsMatchCaseSensitively()
    {
        // "the" and "and" are stop words; "The" is not (TextAttack compares the word as written with its lower-case list).
        var result = WordSwapAttack.Apply("The cat and the dog", new WordSwapOptions(1));
        Assert.Equal("AAA AAA and the AAA", result.Text);
        Assert.Equal(5, result.TotalWords);
        Assert.Equal(3, result.SwappableWords);
    }

    [Fact]
    public void AWordIsReplacedInsideItsWhitespaceTokenAndTheReplacementsAreReported()
    {
        var result = WordSwapAttack.Apply("x <unk> ( don't )", new WordSwapOptions(1));
        Assert.Equal("AAA <AAA> ( AAA )", result.Text);
        Assert.Equal(new[] { new WordReplacement(0, 1, 0, 3), new WordReplacement(3, 3, 5, 3), new WordReplacement(10, 5, 12, 3) },
            result.Replacements);
        Assert.Equal("AAA, AAA!", WordSwapAttack.Apply("Hello, world!", new WordSwapOptions(1)).Text);
    }

    [Theory]
    [InlineData("the")]
    [InlineData("they")]
    [InlineData("of")]
    [InlineData("s")]
    [InlineData("n't")]
    public void StopWordsContainsLowerCaseFunctionWords(string word) => Assert.True(StopWords.Contains(word));

    [Theory]
    [InlineData("The")]
    [InlineData("THEY")]
    [InlineData("Valkyria")]
    [InlineData("game")]
    [InlineData("2011")]
    [InlineData("AAA")]
    [InlineData("co-operation")]
    public void StopWordsDoesNotContainCapitalisedOrContentWords(string word) => Assert.False(StopWords.Contains(word));

    [Fact]
    public void SameSeedGivesTheSameTextAndDifferentSeedsDiffer()
    {
        var text = ContentText(200, 12);
        var a = WordSwapAttack.Apply(text, new WordSwapOptions(0.1, Seed: 3)).Text;
        var b = WordSwapAttack.Apply(text, new WordSwapOptions(0.1, Seed: 3)).Text;
        var c = WordSwapAttack.Apply(text, new WordSwapOptions(0.1, Seed: 4)).Text;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void LineStructureAndWordCountsArePreserved()
    {
        var result = WordSwapAttack.Apply(MixedText, new WordSwapOptions(0.2, Seed: 5));

        var cleanLines = MixedText.Split('\n');
        var attackedLines = result.Text.Split('\n');
        Assert.Equal(cleanLines.Length, attackedLines.Length);
        foreach (var (clean, attacked) in cleanLines.Zip(attackedLines))
            Assert.Equal(Words(clean).Length, Words(attacked).Length);
        // Whitespace other than the swapped words is untouched, including tabs, double spaces and '\r'.
        Assert.StartsWith(" = ", attackedLines[0]);
        Assert.EndsWith(" = ", attackedLines[0]);
        Assert.EndsWith("\r", attackedLines[6]);
        Assert.Equal("", attackedLines[1]);
        Assert.Equal(" of the and a", attackedLines[5]);
        Assert.Equal(MixedText.Length, result.Text.Length + Words(MixedText).Zip(Words(result.Text)).Sum(p => p.First.Length - p.Second.Length));
    }

    [Fact]
    public void WordPositionsStayAlignedWithTheCleanStream()
    {
        var text = ContentText(100, 15) + "\n" + MixedText;
        var result = WordSwapAttack.Apply(text, new WordSwapOptions(0.2, Seed: 11));

        // Word-level tokenisation with an end-of-line token, as a WikiText word vocabulary does.
        static List<string> Tokens(string s) => s.Split('\n').SelectMany(l => Words(l).Append("<eos>")).ToList();
        var clean = Tokens(text);
        var attacked = Tokens(result.Text);

        Assert.Equal(clean.Count, attacked.Count);
        int differing = 0;
        for (int i = 0; i < clean.Count; i++)
        {
            if (clean[i] == attacked[i]) continue;
            differing++;
            // The word inside the token is replaced, its punctuation kept: "<unk>" (the word "unk") becomes "<AAA>".
            Assert.Equal(clean[i] == "<unk>" ? "<AAA>" : "AAA", attacked[i]);
            Assert.False(StopWords.Contains(clean[i]));
        }
        // No whitespace token of this text holds two words, so every swap changes exactly one token.
        Assert.Equal(result.WordsSwapped, differing);
    }

    [Fact]
    public void RandomSubstitutionUsesOnlyTheVocabularyAndAlwaysChangesTheWord()
    {
        var vocabulary = new[] { "red", "green", "blue" };
        // Half of the words are themselves in the vocabulary, so an unchanged draw would be likely without re-drawing.
        var text = string.Join("\n", Enumerable.Range(0, 300).Select(l => l % 2 == 0 ? "red green blue red" : "green blue alpha red"));

        var result = WordSwapAttack.Apply(text, new WordSwapOptions(0.5, WordSwapMode.RandomSubstitution, Seed: 2), vocabulary);

        int changed = 0;
        foreach (var (clean, attacked) in text.Split('\n').Zip(result.Text.Split('\n')))
            foreach (var (before, after) in Words(clean).Zip(Words(attacked)))
            {
                if (before == after) continue;
                changed++;
                Assert.Contains(after, vocabulary);
            }
        // Each line has 4 words → exactly 2 swaps, and every swap changed the word.
        Assert.Equal(600, result.WordsSwapped);
        Assert.Equal(600, changed);
    }

    [Fact]
    public void RandomSubstitutionRequiresAUsableVocabulary()
    {
        var options = new WordSwapOptions(0.1, WordSwapMode.RandomSubstitution);
        Assert.Throws<ArgumentException>(() => WordSwapAttack.Apply("some words", options));
        Assert.Throws<ArgumentException>(() => WordSwapAttack.Apply("some words", options, new[] { "only", "only" }));
        Assert.Throws<ArgumentException>(() => WordSwapAttack.Apply("some words", options, new[] { "two words", "x" }));
    }

    [Fact]
    public void CustomOovTokenIsUsed()
    {
        var result = WordSwapAttack.Apply("alpha beta", new WordSwapOptions(0.5, OovToken: "<oov>"));
        Assert.Single(Words(result.Text), w => w == "<oov>");
    }

    [Fact]
    public void RateZeroLeavesTheTextUnchanged()
    {
        var result = WordSwapAttack.Apply(MixedText, new WordSwapOptions(0));
        Assert.Equal(MixedText, result.Text);
        Assert.Equal(0, result.WordsSwapped);
        Assert.True(result.TotalWords > 0);
        Assert.Equal(0, result.EffectiveRate);
    }

    [Fact]
    public void EmptyTextGivesAnEmptyResult()
    {
        var result = WordSwapAttack.Apply("", new WordSwapOptions(0.5));
        Assert.Equal("", result.Text);
        Assert.Equal(0, result.TotalWords);
        Assert.Equal(0, result.EffectiveRate);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void RateOutsideTheUnitIntervalIsRejected(double rate)
    {
        var ex = Assert.Throws<ArgumentException>(() => WordSwapAttack.Apply("a b c", new WordSwapOptions(rate)));
        Assert.Contains("Rate", ex.Message);
    }

    [Fact]
    public void RateOneSwapsEverySwappableWord()
    {
        var result = WordSwapAttack.Apply("the cat sat on the mat", new WordSwapOptions(1));
        Assert.Equal("the AAA AAA on the AAA", result.Text);
    }

    [Fact]
    public void ParagraphUnitCountsSwapsOverBlankLineSeparatedParagraphs()
    {
        // Two paragraphs: 3 lines × 5 content words, then 2 lines × 5 content words.
        var text = "alpha bravo charlie delta echo\nfoxtrot golf hotel india juliet\nkilo lima mike november oscar\n\n" +
                   "papa quebec romeo sierra tango\nuniform victor whiskey xray yankee";
        var perLine = WordSwapAttack.Apply(text, new WordSwapOptions(0.1, Seed: 3));
        var perParagraph = WordSwapAttack.Apply(text, new WordSwapOptions(0.1, Seed: 3, Unit: WordSwapUnit.Paragraph));
        // Per line: max(⌊0.1·5⌋, 1) = 1 in each of 5 lines. Per paragraph: max(⌊0.1·15⌋, 1) = 1 and max(⌊0.1·10⌋, 1) = 1.
        Assert.Equal(5, perLine.WordsSwapped);
        Assert.Equal(2, perParagraph.WordsSwapped);
        var paragraphs = perParagraph.Text.Split("\n\n");
        Assert.Equal(2, paragraphs.Length);
        Assert.All(paragraphs, p => Assert.Equal(1, p.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Count(w => w == "AAA")));
        // Only words change: line structure and word counts are kept.
        Assert.Equal(text.Split('\n').Select(l => l.Split(' ').Length), perParagraph.Text.Split('\n').Select(l => l.Split(' ').Length));
    }
}
