using System.Text;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>Bad input ends in one line "error: …" on stderr naming the culprit and exit 1, never a stack trace.</summary>
[Collection(CliCollection.Name)]
public sealed class CliErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CliResult Train(string data, params string[] extra) =>
        Run(["lm", "train", "--data", data, "--out", _dir.File("out"), .. extra]);

    private string SmallTextFile()
    {
        var path = _dir.File("small.txt");
        File.WriteAllLines(path, Enumerable.Range(0, 30).Select(i => $"the cat sat on the mat in line {i}"));
        return path;
    }

    [Fact]
    public void MissingDataFile()
    {
        var result = Train(_dir.File("missing.txt"), Tiny());
        AssertOneLineError(result, "missing.txt");
        Assert.False(Directory.Exists(_dir.File("out")), "nothing is written for a run that cannot start");
    }

    [Fact]
    public void EmptyDataFile()
    {
        File.WriteAllText(_dir.File("empty.txt"), "");
        AssertOneLineError(Train(_dir.File("empty.txt"), Tiny()), "empty.txt", "empty");
    }

    [Fact]
    public void NonUtf8DataFile()
    {
        var bytes = Encoding.UTF8.GetBytes("a first line of text\nsecond ").Concat(new byte[] { 0xFF, 0xFE, 0x00, 0xC3 })
            .Concat(Encoding.UTF8.GetBytes(" and more text\n")).ToArray();
        File.WriteAllBytes(_dir.File("latin.txt"), bytes);
        AssertOneLineError(Train(_dir.File("latin.txt"), Tiny()), "latin.txt:2", "UTF-8");
    }

    [Fact]
    public void SeqLenLongerThanData() =>
        AssertOneLineError(Train(SmallTextFile(), Tiny(seqLen: 4096)), "--seq-len", "4096");

    [Fact]
    public void HeadsMustDivideDModel() =>
        AssertOneLineError(Train(LmSynthetic, Tiny(dModel: 30, heads: 4)), "--d-model", "30", "--heads", "4");

    [Fact]
    public void AttackRateAboveOne() =>
        AssertOneLineError(Train(LmSynthetic, Tiny(attackRates: "2")), "--attack-rates", "'2'");

    [Theory]
    [InlineData("--eval-tokens", "1")]
    [InlineData("--valid-tokens", "1")]
    [InlineData("--eval-tokens", "-5")]
    public void TooFewEvaluationTokensAreRefusedBeforeTraining(string option, string value)
    {
        var tiny = Tiny().ToList();
        tiny[tiny.IndexOf(option) + 1] = value;
        AssertOneLineError(Train(LmSynthetic, [.. tiny]), option, value);
        Assert.False(Directory.Exists(_dir.File("out")));
    }

    [Fact]
    public void GuardMapsUserErrorsToExitOneAndCancellationTo130()
    {
        var stderr = new StringWriter();
        var old = Console.Error;
        try
        {
            Console.SetError(stderr);
            Assert.Equal(1, StatFormer.Cli.CommandRunner.Guard(() => throw new InvalidDataException("bad\nthing")));
            Assert.Equal(130, StatFormer.Cli.CommandRunner.Guard(token => throw new OperationCanceledException(token)));
            Assert.Equal(7, StatFormer.Cli.CommandRunner.Guard(token => token.IsCancellationRequested ? 0 : 7));
            Assert.Throws<InvalidOperationException>(() => StatFormer.Cli.CommandRunner.Guard(() => throw new InvalidOperationException("a bug")));
        }
        finally
        {
            Console.SetError(old);
        }
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("error: bad thing", lines[0].TrimEnd());
        Assert.Contains("--resume", lines[1]);
        Assert.Equal(2, lines.Length);
    }

    [Theory]
    [InlineData("--attention", "softmax")]
    [InlineData("--tokenizer", "gpt2")]
    public void UnknownChoiceIsReportedByTheParser(string option, string validChoice)
    {
        var result = Train(LmSynthetic, [.. Tiny(), option, "foo"]);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        Assert.Contains("'foo'", result.Stderr);
        Assert.Contains(validChoice, result.Stderr);
        Assert.Contains(option, result.Stdout + result.Stderr);
        Assert.False(Directory.Exists(_dir.File("out")));
    }

    [Fact]
    public void CompareUnknownAttention() =>
        AssertOneLineError(Run(["compare", "--attention", "softmax,foo", "--out", _dir.File("cmp"), .. Tiny()]), "--variants", "'foo'");

    [Fact]
    public void EvalCorruptCheckpoint()
    {
        var run = Directory.CreateDirectory(_dir.File("run")).FullName;
        File.WriteAllText(Path.Combine(run, "checkpoint.bin"), "this is not a checkpoint, just some garbage text");
        AssertOneLineError(Run("lm", "eval", "--run", run), "checkpoint.bin");
    }

    [Fact]
    public void EvalMissingRunFolder() =>
        AssertOneLineError(Run("lm", "eval", "--run", _dir.File("no-such-run")), "no-such-run");

    private const string LmSynthetic = "synthetic";
}
