using System.Text.Json;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class CompareCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CompareTwoSeedsWritesSummaryReportAndPlots()
    {
        var outDir = _dir.File("cmp");
        var result = Run(["compare", "--data", "synthetic", "--seeds", "2", "--out", outDir, "--json", .. Tiny(steps: 4)]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Canonical(result.Json().GetProperty("variants")),
            Canonical(JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))).RootElement.GetProperty("variants")));

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = summary.RootElement;
        var variants = root.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(new[] { "softmax", "elliptical" }, variants.Select(v => v.GetProperty("variant").GetString()).ToArray());
        // The resolved options: the run tree, the variants and the seeds.
        var options = root.GetProperty("options");
        Assert.Equal(16, options.GetProperty("run").GetProperty("model").GetProperty("seq_len").GetInt32());
        Assert.Equal(outDir, options.GetProperty("run").GetProperty("output").GetProperty("out_dir").GetString());
        Assert.Equal("[0,1]", Canonical(options.GetProperty("seeds")));
        foreach (var v in variants)
        {
            var test = v.GetProperty("test_ppl");
            Assert.Equal(2, test.GetProperty("n").GetInt32());
            Assert.True(test.GetProperty("mean").GetDouble() > 1);
            Assert.True(test.GetProperty("std").GetDouble() > 0, "two seeds give two different perplexities");
        }

        // Four runs, each in its own folder, all on the same attack draw.
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(4, runs.Count);
        foreach (var run in runs)
            Assert.True(File.Exists(Path.Combine(outDir, $"{run.GetProperty("attention").GetString()}-seed{run.GetProperty("seed").GetInt32()}", "summary.json")));
        var draw = Canonical(root.GetProperty("attack_effective_rate"));
        Assert.Equal(new[] { "0.1", "0.2" }, root.GetProperty("attack_effective_rate").EnumerateObject().Select(p => p.Name).ToArray());
        Assert.All(runs, r => Assert.Equal(draw, Canonical(r.GetProperty("attack_effective_rate"))));

        var plots = root.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(new[] { "learning_curves.png", "ppl_vs_attack_rate.png", "elliptical_metric.png", "representation_collapse.png" }, plots);
        foreach (var plot in plots) AssertPng(Path.Combine(outDir, plot));

        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("| variant |", report);
        Assert.Contains("test ppl", report);
        Assert.Contains("attacked 0.1", report);
        foreach (var variant in variants)
        {
            var mean = variant.GetProperty("test_ppl").GetProperty("mean").GetDouble();
            Assert.Contains(mean.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), report);
        }
        foreach (var plot in plots) Assert.Contains($"]({plot})", report);
        // Word-level synthetic data is aligned, so the context attack is aggregated and reported.
        foreach (var variant in variants)
        {
            var ratio = variant.GetProperty("context_attack_ratio").GetProperty("0.1").GetProperty("mean").GetDouble();
            Assert.True(ratio > 0.5 && ratio < 5, $"context-attack ratio {ratio}");
        }
        Assert.Contains("Context attack", report);
    }

    [Fact]
    public void CompareResumeReusesFinishedRuns()
    {
        var outDir = _dir.File("cmp");
        string[] args = ["compare", "--data", "synthetic", "--seeds", "1", "--attention", "softmax", "--out", outDir, "--json", .. Tiny(steps: 4)];
        var first = Run(args);
        Assert.True(first.ExitCode == 0, first.ToString());
        var runDir = Path.Combine(outDir, "softmax-seed0");
        var checkpoint = Path.Combine(runDir, "checkpoint.bin");
        var checkpointTime = File.GetLastWriteTimeUtc(checkpoint);
        var runSummary = File.ReadAllText(Path.Combine(runDir, "summary.json"));
        var metrics = File.ReadAllText(Path.Combine(runDir, "metrics.jsonl"));

        var second = Run([.. args, "--resume"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        // (--json keeps the "reusing …" status lines quiet; the files show nothing was retrained.)
        Assert.DoesNotContain("step 1/4", second.Stderr);
        Assert.Equal(checkpointTime, File.GetLastWriteTimeUtc(checkpoint));
        Assert.Equal(runSummary, File.ReadAllText(Path.Combine(runDir, "summary.json")));
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(runDir, "metrics.jsonl")));
        Assert.Equal(first.Stdout, second.Stdout);

        // With --overwrite the run is trained again (and, same seed, to the same numbers); with neither flag the folder is refused (RunFolderCliTests).
        var third = Run([.. args, "--overwrite"]);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Contains("step 4/4", third.Stderr);
        Assert.NotEqual(checkpointTime, File.GetLastWriteTimeUtc(checkpoint));
        Assert.Equal(Canonical(first.Json().GetProperty("runs")[0].GetProperty("test_ppl")), Canonical(third.Json().GetProperty("runs")[0].GetProperty("test_ppl")));

        var fourSteps = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl"));

        // --resume with a larger step budget continues the finished run from its checkpoint rather than reusing it.
        var longer = Run(["compare", "--data", "synthetic", "--seeds", "1", "--attention", "softmax", "--out", outDir, "--json", "--resume", .. Tiny(steps: 6)]);
        Assert.True(longer.ExitCode == 0, longer.ToString());
        Assert.Equal(6, longer.Json().GetProperty("runs")[0].GetProperty("steps").GetInt64());
        var steps = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Where(l => l.Contains("\"split\":\"train\""))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).ToArray();
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, steps);
        Assert.Equal(fourSteps, File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Take(fourSteps.Length));

        // --resume into the folder with another model is refused, naming what differs.
        AssertOneLineError(Run(["compare", "--data", "synthetic", "--seeds", "1", "--attention", "softmax", "--out", outDir, "--resume", .. Tiny(steps: 6, dModel: 32)]),
            "--resume", "d_model");
    }
}
