namespace StatFormer.IO;

/// <summary>
/// An exclusive claim on a run folder for as long as one process (or one owner inside it) uses it, so
/// that two runs never write into the same metrics.jsonl or summary.json.
/// <para>
/// The claim is an OS file lock on <c>.lock</c> in the folder (FileShare.None: flock on Unix, a
/// share-mode lock on Windows). The OS releases it when the process ends, however it ends, so a lock
/// file left behind by a killed process blocks nobody. A locked file cannot be read by others on every
/// platform, so the owner's PID goes into a separate <c>.lock.pid</c>, which is informational only:
/// whether the folder is taken is decided by the lock alone, never by that file.
/// </para>
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string LockFileName = ".lock";
    public const string OwnerFileName = ".lock.pid";

    private readonly FileStream _lock;
    private readonly bool _createdFolder;
    private bool _disposed;

    private RunFolderLock(string folder, FileStream held, bool createdFolder)
    {
        Folder = folder;
        _lock = held;
        _createdFolder = createdFolder;
    }

    /// <summary>The folder as it was given.</summary>
    public string Folder { get; }

    /// <summary>
    /// Creates <paramref name="folder"/> if needed and locks it; throws <see cref="RunFolderInUseException"/>
    /// at once (no waiting) when another process, or another claim in this process, holds it.
    /// </summary>
    public static RunFolderLock Acquire(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var createdFolder = !Directory.Exists(folder);
        Directory.CreateDirectory(folder);
        FileStream held;
        try
        {
            held = new FileStream(Path.Combine(folder, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsLockedByOther(e))
        {
            throw new RunFolderInUseException(folder, ReadOwner(folder), e);
        }
        try
        {
            AtomicFile.WriteAllText(Path.Combine(folder, OwnerFileName), $"{Environment.ProcessId}\n");
        }
        catch
        {
            held.Dispose();
            throw;
        }
        return new RunFolderLock(folder, held, createdFolder);
    }

    /// <summary>The PID written by the folder's current owner; null when there is none or it cannot be read.</summary>
    public static int? ReadOwner(string folder)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(folder, OwnerFileName)).Trim(), out var pid) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Releases the folder. The .lock file stays (deleting a lock file others may have opened lets two of them lock
    /// different files), except in a folder this claim created and nothing was written to: a run that could not
    /// start leaves no folder behind.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var lockPath = Path.Combine(Folder, LockFileName);
        // Still holding the lock here, so no new owner's PID file can be deleted by mistake.
        TryDelete(Path.Combine(Folder, OwnerFileName));
        var removeFolder = _createdFolder && Directory.EnumerateFileSystemEntries(Folder).All(e => Path.GetFileName(e) == LockFileName);
        // On Unix the file is unlinked while still locked, so nobody can lock it after us; Windows refuses that and
        // deletes it after the release below.
        if (removeFolder) TryDelete(lockPath);
        _lock.Dispose();
        if (!removeFolder) return;
        TryDelete(lockPath);
        try
        {
            Directory.Delete(Folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Something appeared in it meanwhile: keep it.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover PID or lock file misleads nobody: the OS lock decides, the files only name the owner.
        }
    }

    // Only "another handle holds the lock" means in use; other I/O errors (disk full, read-only) must surface as themselves.
    private static bool IsLockedByOther(IOException e)
    {
        if (e is FileNotFoundException or DirectoryNotFoundException or PathTooLongException) return false;
        if (OperatingSystem.IsWindows()) return (e.HResult & 0xFFFF) is 32 or 33; // ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
        return e.HResult == (OperatingSystem.IsLinux() ? 11 : 35); // EWOULDBLOCK from flock(LOCK_NB)
    }
}

/// <summary>A run folder is locked by another process (or another claim in this one).</summary>
public sealed class RunFolderInUseException : IOException
{
    public RunFolderInUseException(string folder, int? ownerProcessId, Exception inner)
        : base($"{folder} is in use by {(ownerProcessId is { } pid ? $"process {pid}" : "another process")} " +
               $"(it holds {Path.Combine(folder, RunFolderLock.LockFileName)})", inner)
    {
        Folder = folder;
        OwnerProcessId = ownerProcessId;
    }

    public string Folder { get; }

    /// <summary>The owner's PID as it wrote it; null if it could not be read.</summary>
    public int? OwnerProcessId { get; }
}
