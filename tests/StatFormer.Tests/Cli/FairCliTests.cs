using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;
using static StatFormer.Tests.Fairness.Experiments.FairRunFixtures;

namespace StatFormer.Tests.Cli;

/// <summary>`statformer fair train` and `fair compare`: JSON on stdout, one-line errors naming the culprit.</summary>
[Collection(CliCollection.Name)]
public sealed class FairCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TrainPrintsParseableJson()
    {
        var outDir = _dir.File("run");
        var result = Run(["fair", "train", "--data", "synthetic", "--method", "sparse-fare", "--seed", "1", "--buckets", "2", "--sparse-impl", "dense",
            "--negative-scale", "one", "--out", outDir, "--json", .. TinyArgs()]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("sparse-fare", json.GetProperty("method").GetString());
        Assert.Equal(1, json.GetProperty("seed").GetInt32());
        Assert.Equal(24, json.GetProperty("steps").GetInt64());
        Assert.InRange(json.GetProperty("target_accuracy").GetDouble(), 0, 100);
        Assert.True(json.GetProperty("z_mse").GetDouble() > 0);
        Assert.True(json.GetProperty("attention").GetProperty("mean_support_size").GetDouble() > 0);
        var loss = json.GetProperty("options").GetProperty("loss");
        Assert.Equal(2, loss.GetProperty("buckets").GetInt32());
        Assert.Equal("dense_masked", loss.GetProperty("implementation").GetString());
        Assert.Equal("one", loss.GetProperty("negative_scale").GetString());
        Assert.Equal(Canonical(json), Canonical(System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))).RootElement));
    }

    [Fact]
    public void TrainTablePrintsTheMetrics()
    {
        var result = Run(["fair", "train", "--data", "synthetic", "--method", "infonce", "--out", _dir.File("table"), .. TinyArgs()]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("target acc %", result.Stdout);
        Assert.Contains("z MSE", result.Stdout);
        Assert.Contains("run folder:", result.Stdout);
    }

    [Fact]
    public void CompareOneMethodPrintsJson()
    {
        var outDir = _dir.File("cmp");
        var result = Run(["fair", "compare", "--data", "synthetic", "--methods", "cclk", "--seeds", "1", "--kernel", "rbf", "--out", outDir, "--json", .. TinyArgs()]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("cclk", json.GetProperty("methods")[0].GetProperty("method").GetString());
        Assert.Equal("rbf", json.GetProperty("runs")[0].GetProperty("options").GetProperty("loss").GetProperty("kernel").GetString());
        Assert.True(File.Exists(Path.Combine(outDir, "report.md")));
    }

    [Fact]
    public void UnknownMethod() =>
        AssertOneLineError(Run(["fair", "train", "--data", "synthetic", "--method", "simclr", "--out", _dir.File("x")]), "--method", "simclr", "fare");

    [Fact]
    public void UnknownMethodInList() =>
        AssertOneLineError(Run(["fair", "compare", "--data", "synthetic", "--methods", "fare,bogus", "--out", _dir.File("x")]), "--methods", "bogus");

    [Fact]
    public void ZeroEpochs() =>
        AssertOneLineError(Run(["fair", "train", "--data", "synthetic", "--epochs", "0", "--out", _dir.File("x")]), "--epochs", "0");

    [Fact]
    public void OddBuckets() =>
        AssertOneLineError(Run(["fair", "train", "--data", "synthetic", "--method", "sparse-fare", "--buckets", "3", "--out", _dir.File("x")]), "--buckets", "3");

    [Fact]
    public void UnknownData() =>
        AssertOneLineError(Run(["fair", "train", "--data", "celeba", "--out", _dir.File("x")]), "--data", "celeba");

    [Fact]
    public void BadSensitive() =>
        AssertOneLineError(Run(["fair", "train", "--data", "adult", "--sensitive", "age", "--out", _dir.File("x")]), "--sensitive", "age");

    [Fact]
    public void MissingColorMnistFile()
    {
        var dataDir = _dir.File("data");
        Directory.CreateDirectory(Path.Combine(dataDir, "mnist"));
        var result = Run(["fair", "train", "--data", "colormnist", "--data-dir", dataDir, "--out", _dir.File("x")]);
        AssertOneLineError(result, "--data-dir", "train-images-idx3-ubyte.gz");
        Assert.False(Directory.Exists(_dir.File("x")), "nothing is written for a run that cannot start");
    }

    [Fact]
    public void ZeroSeeds() =>
        AssertOneLineError(Run(["fair", "compare", "--data", "synthetic", "--seeds", "0", "--out", _dir.File("x")]), "--seeds");
}
