using System.Text.RegularExpressions;
using StatFormer.Comparison;
using StatFormer.Fairness.Models;
using StatFormer.Training;

namespace StatFormer.IO;

/// <summary>What a claimed folder is: one run's files, or a comparison's files plus one subfolder per run.</summary>
public enum RunFolderKind
{
    Run,
    Comparison,
}

/// <summary>
/// The one guard every command that writes a run folder goes through (lm train, compare, fair train,
/// fair compare): lock the folder, then refuse to start in a folder that already holds a run unless
/// the caller resumes it or replaces it, so a finished run is never silently overwritten or mixed with another.
/// </summary>
public static partial class RunFolder
{
    /// <summary>The result file of a run, and of a comparison (beside its run subfolders).</summary>
    public const string SummaryFileName = "summary.json";

    /// <summary>Files whose presence means the folder holds a run (finished or interrupted).</summary>
    public static IReadOnlyList<string> RunMarkerFiles { get; } =
        [SummaryFileName, Trainer.MetricsFileName, Trainer.CheckpointFileName, Trainer.BestModelFileName, ComparisonRunner.ReportFileName];

    /// <summary>
    /// Locks <paramref name="folder"/> (see <see cref="RunFolderLock"/>) and checks what it holds. A missing or empty
    /// folder is always fine. One that holds a run is continued with <paramref name="resume"/> (nothing is deleted), or
    /// emptied of that run's files first with <paramref name="overwrite"/>; with neither, a
    /// <see cref="RunFolderConflictException"/> says what is there. Dispose the result when done with the folder.
    /// </summary>
    /// <exception cref="RunFolderInUseException">Another process (or claim) holds the folder or, when overwriting a comparison, one of its run folders.</exception>
    public static RunFolderLock Claim(string folder, RunFolderKind kind, bool resume, bool overwrite)
    {
        if (resume && overwrite)
            throw new ArgumentException("excludes resume: resume continues the run in the folder, overwrite replaces it", nameof(overwrite));
        var held = RunFolderLock.Acquire(folder);
        try
        {
            if (!resume && FindRunFile(folder, kind) is { } found)
            {
                if (!overwrite)
                    throw new RunFolderConflictException(RunFolderConflict.HoldsARun, $"{folder} already holds a run ({found})");
                DeleteRun(folder, kind);
            }
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The subfolder name of one run of a comparison ("ac-smoe-seed1").</summary>
    public static string PerRunFolderName(string name, int seed) => $"{name}-seed{seed}";

    /// <summary>The first file that shows <paramref name="folder"/> holds a run (for a comparison, also in its run subfolders); null if none.</summary>
    public static string? FindRunFile(string folder, RunFolderKind kind)
    {
        if (!Directory.Exists(folder)) return null;
        var own = RunMarkerFiles.Select(name => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
        if (own is not null || kind == RunFolderKind.Run) return own;
        return PerRunFolders(folder).Select(sub => FindRunFile(sub, RunFolderKind.Run)).FirstOrDefault(f => f is not null);
    }

    /// <summary>
    /// Deletes the files runs write (markers, embedding.json, *.png, TensorBoard event files) from the folder and, for a comparison, from each of
    /// its run subfolders. Those are all locked first, so a run another process is writing there stops the deletion
    /// before anything is gone. Nothing else is touched: an --out that also holds the user's own files keeps them.
    /// </summary>
    private static void DeleteRun(string folder, RunFolderKind kind)
    {
        var runFolders = kind == RunFolderKind.Comparison
            ? PerRunFolders(folder).Where(sub => FindRunFile(sub, RunFolderKind.Run) is not null).ToList()
            : [];
        var subLocks = new List<RunFolderLock>();
        try
        {
            foreach (var sub in runFolders) subLocks.Add(RunFolderLock.Acquire(sub));
            foreach (var sub in runFolders) DeleteRunFiles(sub);
            DeleteRunFiles(folder);
        }
        finally
        {
            foreach (var held in subLocks) held.Dispose();
        }
    }

    private static void DeleteRunFiles(string folder)
    {
        var files = RunMarkerFiles.Append(FairEmbeddingProjection.FileName).Select(name => Path.Combine(folder, name))
            .Concat(Directory.EnumerateFiles(folder, "*.png"))
            .Concat(Directory.EnumerateFiles(folder, TensorBoardLog.EventFilePrefix + "*"));
        foreach (var file in files.ToList()) File.Delete(file);
    }

    private static IEnumerable<string> PerRunFolders(string folder) =>
        Directory.EnumerateDirectories(folder).Where(sub => PerRunFolderPattern().IsMatch(Path.GetFileName(sub)));

    [GeneratedRegex(@"-seed\d+$")]
    private static partial Regex PerRunFolderPattern();
}
