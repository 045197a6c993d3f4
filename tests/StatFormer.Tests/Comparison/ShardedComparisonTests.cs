using System.Diagnostics;
using System.Text.Json;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Fairness.Experiments;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Comparison;

/// <summary>`compare --shard I/N`: disjoint shares of the runs, concurrent shards in one folder, aggregation without --shard.</summary>
[Collection(CliCollection.Name)]
public sealed class ShardedComparisonTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string[] Compare(string outDir, params string[] extra) =>
        ["compare", "--data", "synthetic", "--variants", "softmax,elliptical", "--seeds", "2", "--out", outDir, "--json", .. Tiny(steps: 2), .. extra];

    private static string[] Done(JsonElement json) => json.GetProperty("done").EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public void Two_concurrent_shard_processes_fill_one_folder_and_a_run_without_shard_aggregates_it()
    {
        var folder = _dir.File("sweep");
        var shards = new[] { "0/2", "1/2" }.Select(s => StartCli(Compare(folder, "--shard", s))).ToList();
        var results = shards.Select(WaitForCli).ToList();

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        // Positions (seeds outer, variants inner): 0 softmax-seed0, 1 elliptical-seed0, 2 softmax-seed1, 3 elliptical-seed1.
        Assert.Equal(new[] { "softmax-seed0", "softmax-seed1" }, Done(results[0].Json()));
        Assert.Equal(new[] { "elliptical-seed0", "elliptical-seed1" }, Done(results[1].Json()));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal("{\"count\":2}", File.ReadAllText(Path.Combine(folder, "shards.json")).Trim());
        Assert.False(File.Exists(Path.Combine(folder, "summary.json")), "a shard must not aggregate");

        var aggregate = Run(Compare(folder));

        Assert.True(aggregate.ExitCode == 0, aggregate.ToString());
        var variants = aggregate.Json().GetProperty("variants");
        Assert.Equal(2, variants.GetArrayLength());
        foreach (var name in new[] { "softmax-seed0", "softmax-seed1", "elliptical-seed0", "elliptical-seed1" })
        {
            using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, name, "summary.json")));
            Assert.True(run.RootElement.GetProperty("test_ppl").GetDouble() > 1, name);
        }
        Assert.True(File.Exists(Path.Combine(folder, "summary.json")));
    }

    [Fact]
    public void Aggregating_before_every_shard_finished_names_the_missing_runs()
    {
        var folder = _dir.File("half");
        var shard = Run(Compare(folder, "--shard", "1/2"));
        Assert.True(shard.ExitCode == 0, shard.ToString());
        Assert.Equal(new[] { "softmax-seed0", "softmax-seed1" }, shard.Json().GetProperty("missing").EnumerateArray().Select(e => e.GetString()).ToArray());

        AssertOneLineError(Run(Compare(folder)), "2 of 4 have no summary yet: softmax-seed0, softmax-seed1");
        AssertOneLineError(Run(Compare(_dir.File("bad"), "--shard", "2/2")), "--shard", "'2/2' is not I/N");
    }

    [Fact]
    public void Fair_compare_shards_its_method_runs_the_same_way()
    {
        var folder = _dir.File("fair");
        string[] compare = ["fair", "compare", "--data", "synthetic", "--methods", "infonce,fare", "--seeds", "1", "--out", folder, "--json", .. FairRunFixtures.TinyArgs()];

        var first = Run([.. compare, "--shard", "0/2"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(new[] { "infonce-seed0" }, Done(first.Json()));
        AssertOneLineError(Run(compare), "1 of 2 have no summary yet: fare-seed0");

        var second = Run([.. compare, "--shard", "1/2"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(second.Json().GetProperty("missing").EnumerateArray());
        var aggregate = Run(compare);
        Assert.True(aggregate.ExitCode == 0, aggregate.ToString());
        Assert.Equal(new[] { "infonce", "fare" }, aggregate.Json().GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("method").GetString()).ToArray());
    }

    [Fact]
    public void Vision_compare_shards_its_variant_runs_the_same_way()
    {
        var folder = _dir.File("vision");
        string[] compare = ["vision", "compare", .. VisionCliTests.TinyVision(folder, steps: 2), "--attacks", "fgsm", "--eps", "4/255",
            "--variants", "softmax,elliptical", "--seeds", "1", "--example-images", "2", "--json"];

        var first = Run([.. compare, "--shard", "1/2"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(new[] { "elliptical-seed0" }, Done(first.Json()));
        Assert.False(File.Exists(Path.Combine(folder, "summary.json")), "a shard must not aggregate");
        AssertOneLineError(Run(compare), "1 of 2 have no summary yet: softmax-seed0");

        var second = Run([.. compare, "--shard", "0/2"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(second.Json().GetProperty("missing").EnumerateArray());
        var aggregate = Run(compare);
        Assert.True(aggregate.ExitCode == 0, aggregate.ToString());
        Assert.Equal(new[] { "softmax", "elliptical" }, aggregate.Json().GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("variant").GetString()).ToArray());
        AssertOneLineError(Run([.. compare, "--shard", "1/0"]), "--shard", "'1/0' is not I/N");
    }

    private static (Process Process, Task<string> Stdout, Task<string> Stderr) StartCli(string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "StatFormer.Cli.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["OMP_NUM_THREADS"] = "1";
        var process = Process.Start(start)!;
        // Read both streams from the start, so that neither process blocks on a full pipe while the other is awaited.
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    private static CliResult WaitForCli((Process Process, Task<string> Stdout, Task<string> Stderr) cli)
    {
        using var process = cli.Process;
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "a shard process did not end");
        return new CliResult(process.ExitCode, cli.Stdout.Result, cli.Stderr.Result);
    }
}
