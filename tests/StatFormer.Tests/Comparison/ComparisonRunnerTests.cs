using StatFormer.Comparison;
using StatFormer.IO;
using StatFormer.Reporting;
using StatFormer.Tests.Training;
using StatFormer.Training;

namespace StatFormer.Tests.Comparison;

/// <summary>The shared comparison loop, on a domain without models: a "run" writes a number and the setting it was run with.</summary>
public sealed class ComparisonRunnerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>One fake run's result, as its summary.json holds it.</summary>
    public sealed record FakeRun(string Variant, int Seed, double Value, int Setting);

    public sealed record FakeSummary(IReadOnlyList<string> Variants, IReadOnlyList<MeanStd> Values, IReadOnlyList<FakeRun> Runs);

    /// <summary>Run value = per-variant table[seed]; a finished run is reused when it was run with the same <see cref="Setting"/>.</summary>
    private sealed class FakeDomain(IReadOnlyDictionary<string, double[]> values, int setting) : IComparisonDomain<string, FakeRun, FakeSummary>, IDisposable
    {
        public List<string> Trained { get; } = [];
        public List<IReadOnlyList<ComparisonRun<string, FakeRun>>> Summarized { get; } = [];
        public bool Disposed { get; private set; }
        public bool RefuseOtherSetting { get; init; }
        public int Setting => setting;

        public string NameOf(string variant) => variant;

        public FakeRun? ReadFinished(string variant, int seed, string runFolder)
        {
            var run = System.Text.Json.JsonSerializer.Deserialize<FakeRun>(File.ReadAllText(Path.Combine(runFolder, RunFolder.SummaryFileName)), JsonOutput.Options)!;
            if (run.Setting == setting) return run;
            if (RefuseOtherSetting) throw new RunFolderConflictException(RunFolderConflict.DifferentRun, $"{runFolder} belongs to a different run (setting: {run.Setting} in the checkpoint, {setting} now)");
            return null;
        }

        public FakeRun Run(string variant, int seed, string runFolder, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
        {
            using var held = RunFolder.Claim(runFolder, RunFolderKind.Run, resume: true, overwrite: false);
            Trained.Add($"{variant}/{seed}");
            var run = new FakeRun(variant, seed, values[variant][seed], setting);
            JsonOutput.WriteFile(Path.Combine(runFolder, RunFolder.SummaryFileName), run);
            return run;
        }

        public string? WarningAbout(FakeRun run) => run.Value < 0 ? $"warning: {run.Variant} seed {run.Seed} is negative" : null;

        public FakeSummary Summarize(IReadOnlyList<ComparisonRun<string, FakeRun>> runs)
        {
            Summarized.Add(runs);
            var variants = runs.Select(r => r.Variant).Distinct().ToList();
            return new FakeSummary(variants, variants.Select(v => MeanStd.Of(runs.Where(r => r.Variant == v).Select(r => r.Result.Value))).ToList(),
                runs.Select(r => r.Result).ToList());
        }

        public void Dispose() => Disposed = true;
    }

    private static readonly Dictionary<string, double[]> Values = new()
    {
        ["a"] = [1, 2, 4],
        ["b"] = [10, 10, -1],
    };

    private ComparisonPlan<string> Plan(bool resume = false, bool overwrite = false) =>
        new(["a", "b"], [0, 1, 2], _dir.File("cmp"), resume, overwrite);

    [Fact]
    public void RunsEverySeedOfEveryVariantInItsFolder_SeedsOuter_AndWritesTheSummary()
    {
        var domain = new FakeDomain(Values, setting: 1);
        var labels = new List<string>();
        var log = new List<string>();
        var summary = ComparisonRunner.Run(Plan(), () => domain, label => { labels.Add(label); return null; }, log.Add);

        Assert.Equal(["a/0", "b/0", "a/1", "b/1", "a/2", "b/2"], domain.Trained);
        Assert.Equal(["a seed 0", "b seed 0", "a seed 1", "b seed 1", "a seed 2", "b seed 2"], labels);
        var runs = Assert.Single(domain.Summarized);
        Assert.Equal(domain.Trained, runs.Select(r => $"{r.Variant}/{r.Seed}"));
        foreach (var run in runs)
        {
            Assert.Equal(Path.Combine(_dir.File("cmp"), $"{run.Name}-seed{run.Seed}"), run.Folder);
            Assert.True(File.Exists(Path.Combine(run.Folder, "summary.json")));
        }
        Assert.Contains($"a seed 0: training → {Path.Combine(_dir.File("cmp"), "a-seed0")}", log);
        Assert.Equal(["warning: b seed 2 is negative"], log.Where(l => l.StartsWith("warning", StringComparison.Ordinal)));
        Assert.True(domain.Disposed);

        // summary.json is the domain's summary as JSON.
        Assert.Equal(JsonOutput.Serialize(summary) + "\n", File.ReadAllText(Path.Combine(_dir.File("cmp"), "summary.json")));
    }

    [Fact]
    public void AggregatesMeanAndSampleStd()
    {
        var summary = ComparisonRunner.Run(Plan(), () => new FakeDomain(Values, setting: 1));

        // a: 1, 2, 4 → mean 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9; sample variance 42/9 / 2 = 7/3.
        Assert.Equal(7.0 / 3, summary.Values[0].Mean, 12);
        Assert.Equal(Math.Sqrt(7.0 / 3), summary.Values[0].Std, 12);
        Assert.Equal(3, summary.Values[0].N);
        // b: 10, 10, −1 → mean 19/3; deviations 11/3, 11/3, −22/3; variance (121 + 121 + 484)/9 / 2 = 121/3.
        Assert.Equal(19.0 / 3, summary.Values[1].Mean, 12);
        Assert.Equal(Math.Sqrt(121.0 / 3), summary.Values[1].Std, 12);
        Assert.Equal("2.33 ± 1.53", summary.Values[0].Format(2));
        Assert.Equal("2.3", (summary.Values[0] with { N = 1 }).Format(1));
    }

    [Fact]
    public void ResumeReusesTheFinishedRuns_AndOnlyThose()
    {
        ComparisonRunner.Run(Plan(), () => new FakeDomain(Values, setting: 1));
        // Interrupted: one run never wrote its summary.
        File.Delete(Path.Combine(_dir.File("cmp"), "b-seed1", "summary.json"));

        var domain = new FakeDomain(Values, setting: 1);
        var log = new List<string>();
        var summary = ComparisonRunner.Run(Plan(resume: true), () => domain, log: log.Add);

        Assert.Equal(["b/1"], domain.Trained);
        Assert.Equal(5, log.Count(l => l.Contains(": finished earlier, reusing ", StringComparison.Ordinal)));
        Assert.Contains($"a seed 0: finished earlier, reusing {Path.Combine(_dir.File("cmp"), "a-seed0", "summary.json")}", log);
        // The reused run's warning is shown again.
        Assert.Contains("warning: b seed 2 is negative", log);
        // Order and values as in the uninterrupted comparison.
        Assert.Equal(["a/0", "b/0", "a/1", "b/1", "a/2", "b/2"], summary.Runs.Select(r => $"{r.Variant}/{r.Seed}"));
        Assert.Equal(7.0 / 3, summary.Values[0].Mean, 12);
    }

    [Fact]
    public void AFinishedRunOfOtherSettingsIsRunAgain_OrRefusedWhenTheDomainSaysSo()
    {
        ComparisonRunner.Run(Plan(), () => new FakeDomain(Values, setting: 1));

        // Not recognised as this run: run again (resumed from its checkpoint in a real domain).
        var rerun = new FakeDomain(Values, setting: 2);
        var log = new List<string>();
        var summary = ComparisonRunner.Run(Plan(resume: true), () => rerun, log: log.Add);
        Assert.Equal(6, rerun.Trained.Count);
        Assert.DoesNotContain(log, l => l.Contains("finished earlier", StringComparison.Ordinal));
        Assert.All(summary.Runs, r => Assert.Equal(2, r.Setting));

        // A different run: the domain's error stops the comparison before any run or summary is written.
        var summaryPath = Path.Combine(_dir.File("cmp"), "summary.json");
        var before = File.ReadAllText(summaryPath);
        var refusing = new FakeDomain(Values, setting: 3) { RefuseOtherSetting = true };
        var error = Assert.Throws<RunFolderConflictException>(() => ComparisonRunner.Run(Plan(resume: true), () => refusing));
        Assert.Contains("belongs to a different run", error.Message);
        Assert.Empty(refusing.Trained);
        Assert.True(refusing.Disposed);
        Assert.Equal(before, File.ReadAllText(summaryPath));
    }

    [Fact]
    public void AFolderHoldingAComparisonIsRefusedWithoutResumeOrOverwrite_AndReplacedWithOverwrite()
    {
        ComparisonRunner.Run(Plan(), () => new FakeDomain(Values, setting: 1));

        var opened = false;
        var error = Assert.Throws<RunFolderConflictException>(() => ComparisonRunner.Run(Plan(), () => { opened = true; return new FakeDomain(Values, 1); }));
        Assert.Equal(RunFolderConflict.HoldsARun, error.Conflict);
        Assert.False(opened, "the domain (its data) is opened only after the folder is claimed");

        var domain = new FakeDomain(Values, setting: 1);
        ComparisonRunner.Run(Plan(overwrite: true), () => domain);
        Assert.Equal(6, domain.Trained.Count);
    }

    [Fact]
    public void AComparisonFolderHeldElsewhereFailsBeforeTheDomainOpens()
    {
        Directory.CreateDirectory(_dir.File("cmp"));
        using var other = RunFolder.Claim(_dir.File("cmp"), RunFolderKind.Comparison, resume: false, overwrite: false);
        var opened = false;
        Assert.Throws<RunFolderInUseException>(() => ComparisonRunner.Run(Plan(), () => { opened = true; return new FakeDomain(Values, 1); }));
        Assert.False(opened);
    }
}
