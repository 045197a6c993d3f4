using StatFormer.Language.Data;

namespace StatFormer.Tests.Language.Data;

public class TokenizerTests
{
    private const string Sample = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n";

    [Fact]
    public void CharTokenizer_RoundTripsTrainingTextExactly()
    {
        var tokenizer = CharTokenizer.Train(Sample);
        var ids = tokenizer.Encode(Sample);
        Assert.Equal(Sample.Length, ids.Length);
        Assert.Equal(Sample, tokenizer.Decode(ids));
        Assert.Equal(Sample.Distinct().Count() + 1, tokenizer.VocabSize);
        Assert.Contains('\n', tokenizer.Chars);
    }

    [Fact]
    public void CharTokenizer_OnTinyShakespeareHas65CharsPlusUnk()
    {
        var text = File.ReadAllText(TestData.Path("tinyshakespeare", "input.txt"));
        var tokenizer = CharTokenizer.Train(text);
        Assert.Equal(66, tokenizer.VocabSize);
        Assert.Equal(text.Length, tokenizer.Encode(text).Length);
    }

    [Fact]
    public void CharTokenizer_MapsUnseenCharsToUnk()
    {
        var tokenizer = CharTokenizer.Train("abc");
        var ids = tokenizer.Encode("abz");
        Assert.Equal([0, 1, tokenizer.UnkId], ids);
        Assert.Equal("ab" + CharTokenizer.UnknownChar, tokenizer.Decode(ids));
    }

    [Fact]
    public void WordTokenizer_AppendsEosPerLineAndRoundTripsNormalisedWhitespace()
    {
        var tokenizer = WordTokenizer.Train("the cat  sat\n\n on the\tmat \n");
        var ids = tokenizer.Encode("the cat  sat\n\n on the\tmat \n");
        Assert.Equal(9, ids.Length); // 3 + 1, 0 + 1, 3 + 1
        Assert.Equal(3, ids.Count(id => id == tokenizer.EosId));
        Assert.Equal("the cat sat\n\non the mat\n", tokenizer.Decode(ids));
    }

    [Fact]
    public void WordTokenizer_LastLineWithoutNewlineStillGetsEos()
    {
        var tokenizer = WordTokenizer.Train("a b\nc");
        Assert.Equal(5, tokenizer.Encode("a b\nc").Length);
        Assert.Equal(5, tokenizer.Encode("a b\nc\n").Length);
        Assert.Equal([tokenizer.EosId], tokenizer.Encode("   "));
    }

    [Fact]
    public void WordTokenizer_UnknownWordsBecomeUnk()
    {
        var tokenizer = WordTokenizer.Train("a b c");
        var ids = tokenizer.Encode("a zebra c");
        Assert.Equal(tokenizer.UnkId, ids[1]);
        Assert.Equal("a <unk> c\n", tokenizer.Decode(ids));
    }

    [Fact]
    public void WordTokenizer_OrdersByFrequencyThenOrdinalAndHonoursMinCountAndMaxSize()
    {
        const string text = "b b b a a c c d";
        var full = WordTokenizer.Train(text);
        Assert.Equal(["<eos>", "<unk>", "b", "a", "c", "d"], full.Words);

        var frequent = WordTokenizer.Train(text, minCount: 2);
        Assert.Equal(["<eos>", "<unk>", "b", "a", "c"], frequent.Words);
        Assert.Equal(frequent.UnkId, frequent.Encode("d")[0]);

        var capped = WordTokenizer.Train(text, maxSize: 4);
        Assert.Equal(4, capped.VocabSize);
        Assert.Equal(["<eos>", "<unk>", "b", "a"], capped.Words);
    }

    [Fact]
    public void WordTokenizer_KeepsExistingUnkTokenAsTheUnkId()
    {
        var tokenizer = WordTokenizer.Train("x <unk> y <unk>");
        Assert.Equal(4, tokenizer.VocabSize);
        Assert.Equal(tokenizer.UnkId, tokenizer.Encode("<unk>")[0]);
    }

    [Fact]
    public void Gpt2Tokenizer_RoundTripsPunctuationAndUnicodeExactly()
    {
        const string text = "Hello, world! Größe: 3½ km — naïve café, 東京 😀.\n  Done?";
        var tokenizer = new Gpt2Tokenizer();
        var ids = tokenizer.Encode(text);
        Assert.Equal(50257, tokenizer.VocabSize);
        Assert.All(ids, id => Assert.InRange(id, 0, 50256));
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal([15496, 11, 995], tokenizer.Encode("Hello, world")); // published GPT-2 ids
    }

    [Theory]
    [InlineData("char")]
    [InlineData("word")]
    [InlineData("gpt2")]
    public void ToJsonFromJson_GivesIdenticalEncodings(string kind)
    {
        var tokenizer = TokenizerFactory.Train(kind, Sample + "\u00e9\ud83d\ude00", minCount: 1, maxSize: 10);
        var restored = TokenizerFactory.FromJson(tokenizer.ToJson());
        Assert.Equal(kind, restored.Kind);
        Assert.Equal(tokenizer.VocabSize, restored.VocabSize);
        const string probe = "Speak, citizen! unseen \u00e9 words\nhere";
        Assert.Equal(tokenizer.Encode(probe), restored.Encode(probe));
        Assert.Equal(tokenizer.ToJson(), restored.ToJson());
    }

    [Theory]
    [InlineData("char")]
    [InlineData("word")]
    [InlineData("gpt2")]
    public void EncodeWithSpans_GivesTheEncodeIdsInTextOrder(string kind)
    {
        var text = Sample + "caf\u00e9 \ud83d\ude00 end";
        var tokenizer = TokenizerFactory.Train(kind, Sample);
        var encoded = tokenizer.EncodeWithSpans(text);
        Assert.Equal(tokenizer.Encode(text), encoded.Ids);
        Assert.Equal(encoded.Ids.Length, encoded.Spans.Length);
        for (var i = 0; i < encoded.Spans.Length; i++)
        {
            Assert.InRange(encoded.Spans[i].Start, i == 0 ? 0 : encoded.Spans[i - 1].Start, text.Length);
            Assert.InRange(encoded.Spans[i].End, encoded.Spans[i].Start, text.Length);
        }
    }

    [Fact]
    public void EncodeWithSpans_WordSpansAreTheWordsAndEachEosItsNewline()
    {
        const string text = "the cat\n\n  on mat";
        var encoded = WordTokenizer.Train(text).EncodeWithSpans(text);
        Assert.Equal(new TokenSpan[] { new(0, 3), new(4, 3), new(7, 1), new(8, 1), new(11, 2), new(14, 3), new(17, 0) }, encoded.Spans);
    }

    [Fact]
    public void EncodeWithSpans_Gpt2SpansTileAsciiText()
    {
        const string text = "Hello, world!\n\n  It's 2011.";
        var encoded = new Gpt2Tokenizer().EncodeWithSpans(text);
        Assert.Equal(text, string.Concat(encoded.Spans.Select(s => text.Substring(s.Start, s.Length))));
    }

    [Fact]
    public void Train_UnknownKindNamesTheOptionAndAcceptedValues()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenizerFactory.Train("bpe", "text"));
        Assert.Equal("kind", e.ParamName);
        Assert.Contains("char, word, gpt2", e.Message);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"kind\":\"tiktoken\"}")]
    [InlineData("{\"kind\":\"word\",\"words\":[\"a\"]}")]
    [InlineData("{\"kind\":\"char\",\"codeUnits\":[\"x\"]}")]
    [InlineData("{\"kind\":5}")]
    public void FromJson_BadInputThrowsInvalidDataException(string json)
    {
        Assert.Throws<InvalidDataException>(() => TokenizerFactory.FromJson(json));
    }
}
