using System.Text;
using StatFormer.Language.Data;

namespace StatFormer.Tests.Language.Data;

public sealed class CorpusLoaderTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("statformer-data-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void WikiText2_MatchesPublishedTokenCounts()
    {
        var corpus = CorpusLoader.Load(TestData.Path("wikitext-2"));
        Assert.Equal("wikitext-2", corpus.Name);
        Assert.Equal(36718, corpus.Train.Count(c => c == '\n'));

        var tokenizer = WordTokenizer.Train(corpus.Train);
        Assert.Equal(2088628, tokenizer.Encode(corpus.Train).Length);
        Assert.Equal(217646, tokenizer.Encode(corpus.Valid).Length);
        Assert.Equal(245569, tokenizer.Encode(corpus.Test).Length);
        Assert.Equal(33278, tokenizer.VocabSize);
    }

    [Fact]
    public void TinyShakespeare_SplitsDeterministicallyIntoContiguousParts()
    {
        var path = TestData.Path("tinyshakespeare", "input.txt");
        var original = File.ReadAllText(path);
        var corpus = CorpusLoader.Load(path);
        var again = CorpusLoader.Load(path);

        Assert.Equal(corpus, again);
        Assert.Equal("tinyshakespeare/input.txt", corpus.Name);
        Assert.All(new[] { corpus.Train, corpus.Valid, corpus.Test }, part => Assert.False(string.IsNullOrWhiteSpace(part)));
        Assert.Equal(original, corpus.Train + corpus.Valid + corpus.Test);
        Assert.EndsWith("\n", corpus.Train);
        Assert.EndsWith("\n", corpus.Valid);
        // 40,000 lines at 5% / 5%.
        Assert.Equal(2000, corpus.Valid.Count(c => c == '\n'));
        Assert.Equal(36000, corpus.Train.Count(c => c == '\n'));
    }

    [Fact]
    public void PlainText_FractionsSplitByWholeLines()
    {
        var path = Write("ten.txt", string.Concat(Enumerable.Range(1, 10).Select(i => $"line {i}\n")));
        var corpus = CorpusLoader.Load(path, validFraction: 0.2, testFraction: 0.1);
        Assert.Equal("line 8\nline 9\n", corpus.Valid);
        Assert.Equal("line 10\n", corpus.Test);
    }

    [Fact]
    public void ReadUtf8Text_DropsByteOrderMark()
    {
        var path = Path.Combine(_temp, "bom.txt");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, (byte)'h', (byte)'i']);
        Assert.Equal("hi", CorpusLoader.ReadUtf8Text(path));
    }

    [Fact]
    public void MissingPath_ThrowsNamingThePath()
    {
        var path = Path.Combine(_temp, "nope.txt");
        var e = Assert.Throws<UserInputException>(() => CorpusLoader.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void EmptyFile_ThrowsNamingThePath()
    {
        var path = Write("empty.txt", "");
        var e = Assert.Throws<UserInputException>(() => CorpusLoader.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void InvalidUtf8_ThrowsNamingThePathAndLine()
    {
        var path = Path.Combine(_temp, "bad.txt");
        var bytes = Encoding.UTF8.GetBytes("fine\nstill fine\nbad here: ").Concat(new byte[] { 0xC3, 0x28, (byte)'\n' }).ToArray();
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<UserInputException>(() => CorpusLoader.Load(path));
        Assert.Contains(path + ":3:", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void DirectoryWithoutWikiValid_ThrowsNamingTheMissingFile()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_temp, "wiki")).FullName;
        File.WriteAllText(Path.Combine(dir, "wiki.train.tokens"), " a b \n");
        File.WriteAllText(Path.Combine(dir, "wiki.test.tokens"), " a b \n");
        var e = Assert.Throws<UserInputException>(() => CorpusLoader.Load(dir));
        Assert.Contains(dir, e.Message);
        Assert.Contains("wiki.valid.tokens", e.Message);
        Assert.DoesNotContain("wiki.test.tokens", e.Message);
    }

    [Fact]
    public void TooShortFile_ThrowsSayingHowManyLines()
    {
        var path = Write("short.txt", "one\ntwo\nthree\n");
        var e = Assert.Throws<UserInputException>(() => CorpusLoader.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("3 line(s)", e.Message);
    }

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(0.5, 0.5)]
    [InlineData(0.1, -1.0)]
    public void BadFractions_Throw(double valid, double test)
    {
        var path = Write("ok.txt", string.Concat(Enumerable.Repeat("x\n", 100)));
        Assert.Throws<UserInputException>(() => CorpusLoader.Load(path, valid, test));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllText(path, text);
        return path;
    }
}
