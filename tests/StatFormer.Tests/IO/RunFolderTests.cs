using StatFormer.IO;
using StatFormer.Tests.Training;

namespace StatFormer.Tests.IO;

/// <summary>The run-folder guard: the lock (in this process; other processes are in RunFolderCliTests) and what it refuses or deletes.</summary>
public sealed class RunFolderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AHeldFolderRefusesASecondClaimNamingTheOwnerAndIsFreeAgainOnceReleased()
    {
        var folder = _dir.File("run");
        var first = RunFolderLock.Acquire(folder);
        Assert.Equal(Environment.ProcessId, RunFolderLock.ReadOwner(folder));

        var e = Assert.Throws<RunFolderInUseException>(() => RunFolderLock.Acquire(folder));
        Assert.Equal(Environment.ProcessId, e.OwnerProcessId);
        Assert.Contains($"process {Environment.ProcessId}", e.Message);
        Assert.Contains(folder, e.Message);
        Assert.Throws<RunFolderInUseException>(() => RunFolder.Claim(folder, RunFolderKind.Run, resume: true, overwrite: false));

        first.Dispose();
        Assert.Null(RunFolderLock.ReadOwner(folder));
        using var second = RunFolderLock.Acquire(folder);
        Assert.Equal(Environment.ProcessId, RunFolderLock.ReadOwner(folder));
    }

    [Fact]
    public void LockFilesLeftByADeadProcessDoNotBlock()
    {
        // What a killed run leaves: the lock file and its PID file, but no process holding the lock.
        var folder = _dir.File("stale");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, RunFolderLock.LockFileName), "");
        File.WriteAllText(Path.Combine(folder, RunFolderLock.OwnerFileName), "999999\n");

        using var claim = RunFolder.Claim(folder, RunFolderKind.Run, resume: false, overwrite: false);
        Assert.Equal(Environment.ProcessId, RunFolderLock.ReadOwner(folder));
    }

    [Fact]
    public void MissingAndEmptyFoldersAreClaimedWithoutFlags()
    {
        var missing = _dir.File("missing");
        using (RunFolder.Claim(missing, RunFolderKind.Run, resume: false, overwrite: false)) Assert.True(Directory.Exists(missing));
        var empty = Directory.CreateDirectory(_dir.File("empty")).FullName;
        using (RunFolder.Claim(empty, RunFolderKind.Comparison, resume: false, overwrite: false)) { }
        // A released claim leaves only its .lock, which is not a run.
        Assert.Equal([RunFolderLock.LockFileName], Directory.EnumerateFileSystemEntries(empty).Select(e => Path.GetFileName(e)).ToArray());
        using (RunFolder.Claim(empty, RunFolderKind.Run, resume: false, overwrite: false)) { }
    }

    [Fact]
    public void AClaimThatCreatedTheFolderAndWroteNothingRemovesIt()
    {
        var created = _dir.File("created");
        using (RunFolderLock.Acquire(created)) { }
        Assert.False(Directory.Exists(created), "a run that could not start leaves no folder");

        var existing = Directory.CreateDirectory(_dir.File("existing")).FullName;
        using (RunFolderLock.Acquire(existing)) { }
        Assert.True(Directory.Exists(existing));

        var written = _dir.File("written");
        using (RunFolderLock.Acquire(written)) File.WriteAllText(Path.Combine(written, "metrics.jsonl"), "");
        Assert.True(File.Exists(Path.Combine(written, "metrics.jsonl")));
    }

    [Fact]
    public void AFolderHoldingARunIsRefusedWithoutFlagsAndLeftUntouched()
    {
        var folder = WriteRun(_dir.File("done"));
        var before = Snapshot(folder);
        var e = Assert.Throws<RunFolderConflictException>(() => RunFolder.Claim(folder, RunFolderKind.Run, resume: false, overwrite: false));
        Assert.Contains(folder, e.Message);
        Assert.Equal(RunFolderConflict.HoldsARun, e.Conflict);
        Assert.Equal(before, Snapshot(folder));
        // The refusal released the lock.
        using (RunFolderLock.Acquire(folder)) { }

        using (RunFolder.Claim(folder, RunFolderKind.Run, resume: true, overwrite: false)) { }
        Assert.Equal(before, Snapshot(folder));
        Assert.Throws<ArgumentException>(() => RunFolder.Claim(folder, RunFolderKind.Run, resume: true, overwrite: true));
    }

    [Fact]
    public void OverwriteDeletesTheRunsFilesAndNothingElse()
    {
        var folder = WriteRun(_dir.File("replace"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        using (RunFolder.Claim(folder, RunFolderKind.Run, resume: false, overwrite: true))
        {
            Assert.Null(RunFolder.FindRunFile(folder, RunFolderKind.Run));
            Assert.Equal(["notes.txt"], VisibleFiles(folder));
        }
    }

    [Fact]
    public void AComparisonHoldsARunThroughItsRunFoldersAndOverwriteClearsThemAll()
    {
        var cmp = _dir.File("cmp");
        var interrupted = WriteRun(Path.Combine(cmp, RunFolder.PerRunFolderName("softmax", 0)), finished: false);
        var e = Assert.Throws<RunFolderConflictException>(() => RunFolder.Claim(cmp, RunFolderKind.Comparison, resume: false, overwrite: false));
        Assert.Contains(Path.Combine(interrupted, "metrics.jsonl"), e.Message);
        // A single run in the comparison's parent is not a run of its own.
        using (RunFolder.Claim(cmp, RunFolderKind.Run, resume: false, overwrite: false)) { }

        WriteRun(Path.Combine(cmp, RunFolder.PerRunFolderName("elliptical", 3)));
        var other = Directory.CreateDirectory(Path.Combine(cmp, "data")).FullName;
        File.WriteAllText(Path.Combine(other, "summary.json"), "{}"); // not a run folder of the comparison: kept
        File.WriteAllText(Path.Combine(cmp, "report.md"), "# old");
        File.WriteAllText(Path.Combine(cmp, "expert_load_ac-smoe.png"), "png");
        using (RunFolder.Claim(cmp, RunFolderKind.Comparison, resume: false, overwrite: true))
        {
            Assert.Null(RunFolder.FindRunFile(cmp, RunFolderKind.Comparison));
            Assert.Empty(VisibleFiles(cmp));
            Assert.Equal(["summary.json"], VisibleFiles(other));
        }
    }

    [Fact]
    public void OverwritingAComparisonWhoseRunAnotherOwnerHoldsDeletesNothing()
    {
        var cmp = _dir.File("busy");
        var first = WriteRun(Path.Combine(cmp, RunFolder.PerRunFolderName("fare", 0)));
        var busy = WriteRun(Path.Combine(cmp, RunFolder.PerRunFolderName("fare", 1)));
        var before = (Snapshot(first), Snapshot(busy));
        using var writer = RunFolderLock.Acquire(busy);
        var e = Assert.Throws<RunFolderInUseException>(() => RunFolder.Claim(cmp, RunFolderKind.Comparison, resume: false, overwrite: true));
        Assert.Equal(busy, e.Folder);
        Assert.Equal(before, (Snapshot(first), Snapshot(busy)));
        using (RunFolderLock.Acquire(cmp)) { } // the comparison's own lock was released
    }

    private static string WriteRun(string folder, bool finished = true)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "metrics.jsonl"), "{\"step\":1}\n");
        File.WriteAllText(Path.Combine(folder, "checkpoint.bin"), "weights");
        if (finished)
        {
            File.WriteAllText(Path.Combine(folder, "summary.json"), "{}");
            File.WriteAllText(Path.Combine(folder, "learning_curve.png"), "png");
        }
        return folder;
    }

    private static string[] VisibleFiles(string folder) =>
        Directory.EnumerateFiles(folder).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order().ToArray()!;

    private static string Snapshot(string folder) =>
        string.Join("\n", VisibleFiles(folder).Select(n => $"{n}={Convert.ToHexString(File.ReadAllBytes(Path.Combine(folder, n)))}"));
}
