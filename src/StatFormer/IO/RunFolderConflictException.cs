namespace StatFormer.IO;

/// <summary>Why a run folder cannot be used as asked.</summary>
public enum RunFolderConflict
{
    /// <summary>The folder holds a run and neither resuming nor overwriting was asked for.</summary>
    HoldsARun,

    /// <summary>Resuming was asked for, but the folder's checkpoint belongs to a different run.</summary>
    DifferentRun,
}

/// <summary>
/// A run folder that cannot be used as asked (<see cref="Conflict"/> says why). The message names the folder and
/// what is there; the CLI adds which of its flags resolve it.
/// </summary>
public sealed class RunFolderConflictException(RunFolderConflict conflict, string message) : IOException(message)
{
    public RunFolderConflict Conflict { get; } = conflict;
}
