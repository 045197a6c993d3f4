using StatFormer.Language.Data;
using StatFormer.Language.Robustness;

namespace StatFormer.Tests.Language.Robustness;

public class UntouchedTargetAlignmentTests
{
    private static IReadOnlyList<(int Clean, int Attacked)>? Match(ITokenizer tokenizer, string clean, WordSwapResult attack) =>
        UntouchedTargetAlignment.Match(tokenizer.EncodeWithSpans(clean), clean.Length, tokenizer.EncodeWithSpans(attack.Text),
            attack.Text.Length, attack.Replacements);

    [Fact]
    public void CharactersAfterALengthChangingSwapArePairedAcrossTheShift()
    {
        // "ab cd ef" → "ab XYZ ef": the clean "cd" (characters 3 and 4) becomes three characters, so " ef" moves by one.
        const string clean = "ab cd ef";
        var tokenizer = CharTokenizer.Train(clean + "XYZ");
        var attack = new WordSwapResult("ab XYZ ef", 1, 3, 3, new[] { new WordReplacement(3, 2, 3, 3) });

        var pairs = Match(tokenizer, clean, attack);

        Assert.Equal(new[] { (0, 0), (1, 1), (2, 2), (5, 6), (6, 7), (7, 8) }, pairs);
    }

    [Fact]
    public void AWordTokenThatHoldsTheSwappedWordIsTouchedButItsNeighboursAndEosAreNot()
    {
        const string clean = "Hello, world!\nbye";
        var tokenizer = WordTokenizer.Train(clean);
        // "Hello" → "AAA" inside the whitespace token "Hello,".
        var attack = new WordSwapResult("AAA, world!\nbye", 1, 3, 3, new[] { new WordReplacement(0, 5, 0, 3) });

        // Tokens: "Hello," "world!" <eos>('\n') "bye" <eos>(end of text, no character).
        Assert.Equal(new[] { (1, 1), (2, 2), (3, 3), (4, 4) }, Match(tokenizer, clean, attack));
    }

    [Fact]
    public void TokensWhoseIdChangedOrWhoseSpansOverlapAreNotPaired()
    {
        // Hand-made streams over the unchanged text "abcd": token 1 overlaps tokens 2 and 3, which share one span (two pieces
        // of one character), and token 4 has another id in the attacked stream.
        var clean = new EncodedText([10, 11, 12, 13, 14], [new(0, 1), new(1, 2), new(2, 1), new(2, 1), new(3, 1)]);
        var attacked = new EncodedText([10, 11, 12, 13, 99], [new(0, 1), new(1, 2), new(2, 1), new(2, 1), new(3, 1)]);
        var pairs = UntouchedTargetAlignment.Match(clean, 4, attacked, 4, Array.Empty<WordReplacement>());
        // Only token 0 is distinct and unchanged; 1–3 overlap or coincide, token 4 changed its id.
        Assert.Equal(new[] { (0, 0) }, pairs);
    }

    [Fact]
    public void SpansOutOfTextOrderGiveNoAlignment()
    {
        var shuffled = new EncodedText([1, 2], [new(1, 1), new(0, 1)]);
        var ordered = new EncodedText([1, 2], [new(0, 1), new(1, 1)]);
        Assert.Null(UntouchedTargetAlignment.Match(shuffled, 2, ordered, 2, Array.Empty<WordReplacement>()));
        Assert.Null(UntouchedTargetAlignment.Match(ordered, 2, new EncodedText([1, 2], [new(0, 1), new(1, 5)]), 2, Array.Empty<WordReplacement>()));
    }

    [Fact]
    public void ReplacementsThatDoNotDescribeTheTwoTextsAreRejected()
    {
        var tokens = new EncodedText([1, 2, 3], [new(0, 1), new(1, 1), new(2, 1)]);
        // The gap before the replacement is 1 character in the clean text but 2 in the attacked one.
        Assert.Throws<ArgumentException>(() => UntouchedTargetAlignment.Match(tokens, 3, tokens, 3, new[] { new WordReplacement(1, 1, 2, 1) }));
        // The texts' tails after the last replacement differ in length.
        Assert.Throws<ArgumentException>(() => UntouchedTargetAlignment.Match(tokens, 3, tokens, 3, new[] { new WordReplacement(1, 1, 1, 2) }));
    }

    [Fact]
    public void Gpt2PiecesOfOneCharacterAreNeverPairedButTheRestIs()
    {
        const string clean = "Hello 戦 world peace";
        var tokenizer = new Gpt2Tokenizer();
        var attack = new WordSwapResult("Hello 戦 AAA peace", 1, 3, 3, new[] { new WordReplacement(8, 5, 8, 3) });
        var cleanTokens = tokenizer.EncodeWithSpans(clean);
        var attackedTokens = tokenizer.EncodeWithSpans(attack.Text);

        var pairs = Match(tokenizer, clean, attack)!;

        var paired = pairs.Select(p => clean.Substring(cleanTokens.Spans[p.Clean].Start, cleanTokens.Spans[p.Clean].Length)).ToList();
        Assert.Equal(new[] { "Hello", " peace" }, paired);
        Assert.All(pairs, p => Assert.Equal(cleanTokens.Ids[p.Clean], attackedTokens.Ids[p.Attacked]));
    }
}
