using StatFormer.Training;

namespace StatFormer.Comparison;

/// <summary>
/// What a domain (language models, fair contrastive learning, …) tells <see cref="ComparisonRunner"/>: what one run of a
/// variant and seed is, how to recognise that run finished in its folder, and what the comparison of the runs is. The
/// runner owns everything else (folders, locks, resume, order, progress, summary.json).
/// </summary>
/// <typeparam name="TVariant">What is compared (a model variant, a contrastive method).</typeparam>
/// <typeparam name="TRun">One run's result.</typeparam>
/// <typeparam name="TSummary">The comparison's result, written as summary.json.</typeparam>
public interface IComparisonDomain<TVariant, TRun, TSummary> where TRun : class
{
    /// <summary>The variant's name in run folders ("ac-smoe-seed1"), progress labels and status lines.</summary>
    string NameOf(TVariant variant);

    /// <summary>
    /// The finished run in <paramref name="runFolder"/> (whose summary.json exists; the runner holds the folder's lock)
    /// when it is this very run with the requested settings, to reuse as it is; null when it should be run again (the run
    /// then resumes from its checkpoint). Throws <see cref="IO.RunFolderConflictException"/> when the folder holds a different run.
    /// </summary>
    TRun? ReadFinished(TVariant variant, int seed, string runFolder);

    /// <summary>
    /// Trains and evaluates one run in <paramref name="runFolder"/> (resuming it when the comparison resumes), ending with
    /// its <see cref="IO.RunFolder.SummaryFileName"/>, by which a resumed comparison finds it finished.
    /// </summary>
    TRun Run(TVariant variant, int seed, string runFolder, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken);

    /// <summary>A status line about a run, reused or new, that the user should see (e.g. probes that did not converge); null for none.</summary>
    string? WarningAbout(TRun run);

    /// <summary>
    /// Aggregates the runs (all variants × seeds, in the runner's order), draws the plots and writes the report into
    /// the comparison folder; the runner then writes the result as summary.json.
    /// </summary>
    TSummary Summarize(IReadOnlyList<ComparisonRun<TVariant, TRun>> runs);
}

/// <summary>One finished run of a comparison: which variant and seed, its folder, its result.</summary>
public sealed record ComparisonRun<TVariant, TRun>(TVariant Variant, string Name, int Seed, string Folder, TRun Result);
