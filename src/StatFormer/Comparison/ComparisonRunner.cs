using StatFormer.IO;
using StatFormer.Reporting;
using StatFormer.Training;

namespace StatFormer.Comparison;

/// <summary>
/// The one comparison loop of every domain: runs each variant for each seed on equal footing, each run in its own
/// subfolder, then has the domain aggregate them and writes summary.json.
/// <list type="bullet">
/// <item>Order: seeds outer, variants inner (so an interrupted comparison has every variant of the first seeds).</item>
/// <item>Folders: the comparison holds a lock on its folder throughout (<see cref="RunFolder.Claim"/>, which also refuses
/// or clears a folder holding runs); each run locks its <c>NAME-seedK</c> subfolder (a different lock file).</item>
/// <item>Resume: a run whose summary.json exists is read under its folder's lock (so a process still writing it is not read
/// half-way) and reused when the domain recognises it as this very run; otherwise it is run again, from its checkpoint.</item>
/// </list>
/// </summary>
public static class ComparisonRunner
{
    /// <summary>The report every domain writes beside the comparison's summary.json.</summary>
    public const string ReportFileName = "report.md";

    /// <param name="openDomain">Called once the comparison folder is claimed (so a second process fails before any loading);
    /// a domain that is <see cref="IDisposable"/> (e.g. holds the dataset) is disposed at the end.</param>
    /// <param name="progressFor">Called once per run with its label ("elliptical seed 1") to get a progress sink; may return null.</param>
    /// <param name="log">Status lines: which run starts, which is reused, the domain's warnings.</param>
    public static TSummary Run<TVariant, TRun, TSummary>(ComparisonPlan<TVariant> plan, Func<IComparisonDomain<TVariant, TRun, TSummary>> openDomain,
        Func<string, IProgress<TrainingProgress>?>? progressFor = null, Action<string>? log = null, CancellationToken cancellationToken = default)
        where TRun : class
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(openDomain);
        if (plan.Shard is not null) throw new ArgumentException("a sharded plan runs through RunShard", nameof(plan));
        // A folder that shards fill is only aggregated here: its runs may still be training elsewhere.
        // (--overwrite starts the whole comparison over here instead, shard record included.)
        var sharded = !plan.Overwrite && Directory.Exists(plan.OutDir) && ComparisonShard.ReadCount(plan.OutDir) is not null;
        using var folder = RunFolder.Claim(plan.OutDir, RunFolderKind.Comparison, plan.Resume || sharded, plan.Overwrite);
        if (plan.Overwrite) File.Delete(Path.Combine(plan.OutDir, ComparisonShard.FileName));
        var domain = openDomain();
        try
        {
            if (sharded) RequireAllFinished(plan, domain.NameOf);
            var runs = RunAll(sharded ? plan with { Resume = true } : plan, domain, progressFor, log, cancellationToken);
            var summary = domain.Summarize(runs);
            JsonOutput.WriteFile(Path.Combine(plan.OutDir, RunFolder.SummaryFileName), summary);
            return summary;
        }
        finally
        {
            (domain as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// Runs this shard's share of the plan (<see cref="ComparisonPlan{TVariant}.Shard"/>) into the shared comparison folder and
    /// writes no summary: a run without a shard aggregates once every run has its summary.json. Finished runs are reused
    /// (unless overwriting); each run locks only its own folder, so shards on one folder run side by side.
    /// </summary>
    public static ComparisonShardResult RunShard<TVariant, TRun, TSummary>(ComparisonPlan<TVariant> plan, Func<IComparisonDomain<TVariant, TRun, TSummary>> openDomain,
        Func<string, IProgress<TrainingProgress>?>? progressFor = null, Action<string>? log = null, CancellationToken cancellationToken = default)
        where TRun : class
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(openDomain);
        var shard = plan.Shard ?? throw new ArgumentException("RunShard needs a plan with a shard", nameof(plan));
        Directory.CreateDirectory(plan.OutDir);
        shard.Mark(plan.OutDir);
        var domain = openDomain();
        try
        {
            var done = new List<string>();
            foreach (var (position, seed, variant) in plan.Runs.Where(r => shard.Owns(r.Position)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = domain.NameOf(variant);
                var label = $"{name} seed {seed}";
                var runFolder = Path.Combine(plan.OutDir, RunFolder.PerRunFolderName(name, seed));
                var result = Reuse(plan with { Resume = !plan.Overwrite }, domain, variant, seed, runFolder, label, log);
                if (result is null)
                {
                    log?.Invoke($"{label} (shard {shard}): training → {runFolder}");
                    result = domain.Run(variant, seed, runFolder, progressFor?.Invoke(label), cancellationToken);
                }
                if (domain.WarningAbout(result) is { } warning) log?.Invoke(warning);
                done.Add(RunFolder.PerRunFolderName(name, seed));
            }
            return new ComparisonShardResult(shard, done, MissingRuns(plan, domain.NameOf));
        }
        finally
        {
            (domain as IDisposable)?.Dispose();
        }
    }

    /// <summary>The runs of the plan whose folder has no summary.json yet ("elliptical-seed1").</summary>
    public static IReadOnlyList<string> MissingRuns<TVariant>(ComparisonPlan<TVariant> plan, Func<TVariant, string> nameOf) =>
        plan.Runs.Select(r => RunFolder.PerRunFolderName(nameOf(r.Variant), r.Seed))
            .Where(name => !File.Exists(Path.Combine(plan.OutDir, name, RunFolder.SummaryFileName))).ToList();

    private static void RequireAllFinished<TVariant>(ComparisonPlan<TVariant> plan, Func<TVariant, string> nameOf)
    {
        var missing = MissingRuns(plan, nameOf);
        if (missing.Count > 0)
            throw new InvalidDataException($"{plan.OutDir} is filled by --shard runs and {missing.Count} of {plan.Runs.Count()} have no summary yet: "
                + $"{string.Join(", ", missing)}; run their shards (or wait for them), then aggregate again");
    }

    private static List<ComparisonRun<TVariant, TRun>> RunAll<TVariant, TRun, TSummary>(ComparisonPlan<TVariant> plan,
        IComparisonDomain<TVariant, TRun, TSummary> domain, Func<string, IProgress<TrainingProgress>?>? progressFor, Action<string>? log,
        CancellationToken cancellationToken)
        where TRun : class
    {
        var runs = new List<ComparisonRun<TVariant, TRun>>();
        foreach (var seed in plan.Seeds)
        {
            foreach (var variant in plan.Variants)
            {
                var name = domain.NameOf(variant);
                var label = $"{name} seed {seed}";
                var runFolder = Path.Combine(plan.OutDir, RunFolder.PerRunFolderName(name, seed));
                var result = Reuse(plan, domain, variant, seed, runFolder, label, log);
                if (result is null)
                {
                    log?.Invoke($"{label}: training → {runFolder}");
                    result = domain.Run(variant, seed, runFolder, progressFor?.Invoke(label), cancellationToken);
                }
                if (domain.WarningAbout(result) is { } warning) log?.Invoke(warning);
                runs.Add(new ComparisonRun<TVariant, TRun>(variant, name, seed, runFolder, result));
            }
        }
        return runs;
    }

    /// <summary>When resuming, the finished run in <paramref name="runFolder"/> if the domain recognises it as this run; else null.</summary>
    private static TRun? Reuse<TVariant, TRun, TSummary>(ComparisonPlan<TVariant> plan, IComparisonDomain<TVariant, TRun, TSummary> domain,
        TVariant variant, int seed, string runFolder, string label, Action<string>? log)
        where TRun : class
    {
        var summaryPath = Path.Combine(runFolder, RunFolder.SummaryFileName);
        if (!plan.Resume || !File.Exists(summaryPath)) return null;
        // Reading a finished run locks it too, so a process still writing it is not read half-way.
        using var reading = RunFolder.Claim(runFolder, RunFolderKind.Run, resume: true, overwrite: false);
        var finished = domain.ReadFinished(variant, seed, runFolder);
        if (finished is not null) log?.Invoke($"{label}: finished earlier, reusing {summaryPath}");
        return finished;
    }
}
