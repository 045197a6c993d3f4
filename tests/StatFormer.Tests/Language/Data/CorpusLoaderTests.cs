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
        var e = Assert.Throws<FileNotFoundException>(() => CorpusLoader.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void EmptyFile_ThrowsNamingThePath()
    {
        var path = Write("empty.txt", "");
        var e = Assert.Throws<InvalidDataException>(() => CorpusLoader.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void InvalidUtf8_ThrowsNamingThePathAndLine()
    {
        var path = Path.Combine(_temp, "bad.txt");
        var bytes = Encoding.UTF8.GetBytes("fine\nstill fine\nbad here: ").Concat(new byte[] { 0xC3, 0x28, (byte)'\n' }).ToArray();
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => CorpusLoader.Load(path));
        Assert.Contains(path + ":3:", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void DirectoryWithoutWikiValid_ThrowsNamingTheFolderAndWhatIsThere()
    {
        var dir = Folder("wiki", "wiki.train.tokens", "wiki.test.tokens");
        var e = Assert.Throws<InvalidDataException>(() => CorpusLoader.Load(dir));
        Assert.Contains(dir, e.Message);
        Assert.Contains("valid: none", e.Message);
        Assert.Contains("train: wiki.train.tokens", e.Message);
        Assert.Contains("test: wiki.test.tokens", e.Message);
    }

    [Theory]
    [InlineData("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens")]
    [InlineData("train.txt", "valid.txt", "test.txt")]
    [InlineData("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")]
    [InlineData("corpus-train.txt", "corpus-val.txt", "corpus-test.txt")]
    [InlineData("TRAIN.md", "dev.md", "Test.md")]
    public void FolderLayoutsFindTheirThreeSplits(string train, string valid, string test)
    {
        var dir = Folder("layout", train, valid, test);
        File.WriteAllText(Path.Combine(dir, "README"), "not a split\n");
        var corpus = CorpusLoader.Load(dir);
        Assert.Equal("layout", corpus.Name);
        Assert.Equal($"text of {train}\n", corpus.Train);
        Assert.Equal($"text of {valid}\n", corpus.Valid);
        Assert.Equal($"text of {test}\n", corpus.Test);
    }

    [Fact]
    public void WikiTextFilesWinOverOtherCandidates()
    {
        var dir = Folder("both", "wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens", "wiki.train.raw", "wiki.valid.raw", "wiki.test.raw");
        Assert.Equal("text of wiki.train.tokens\n", CorpusLoader.Load(dir).Train);
    }

    [Fact]
    public void AmbiguousFolderNamesTheCandidates()
    {
        var dir = Folder("ambiguous", "a.train.txt", "b.train.txt", "valid.txt", "test.txt");
        var e = Assert.Throws<InvalidDataException>(() => CorpusLoader.Load(dir));
        Assert.Contains(dir, e.Message);
        Assert.Contains("more than one candidate", e.Message);
        Assert.Contains("train: a.train.txt, b.train.txt", e.Message);
    }

    [Fact]
    public void ExplicitSplitFilesAreUsedAsTheyAre()
    {
        var dir = Folder("explicit", "one.txt", "two.txt", "three.txt");
        var corpus = CorpusLoader.LoadSplits(Path.Combine(dir, "one.txt"), Path.Combine(dir, "two.txt"), Path.Combine(dir, "three.txt"));
        Assert.Equal(("text of one.txt\n", "text of two.txt\n", "text of three.txt\n"), (corpus.Train, corpus.Valid, corpus.Test));
        var data = LmDataset.Load(new LmDataOptions
        {
            TrainFile = Path.Combine(dir, "one.txt"), ValidFile = Path.Combine(dir, "two.txt"), TestFile = Path.Combine(dir, "three.txt"), Tokenizer = "char",
        });
        Assert.Equal("text of two.txt\n".Length, data.Valid.Length);
    }

    private string Folder(string name, params string[] files)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_temp, name)).FullName;
        foreach (var file in files) File.WriteAllText(Path.Combine(dir, file), $"text of {file}\n");
        return dir;
    }

    [Fact]
    public void TooShortFile_ThrowsSayingHowManyLines()
    {
        var path = Write("short.txt", "one\ntwo\nthree\n");
        var e = Assert.Throws<InvalidDataException>(() => CorpusLoader.Load(path));
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
        Assert.ThrowsAny<ArgumentException>(() => CorpusLoader.Load(path, valid, test));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllText(path, text);
        return path;
    }
}
