using System.Text.Json;
using StatFormer.IO;
using StatFormer.Options;

namespace StatFormer.Cli;

/// <summary>
/// Runs a command body and turns user errors into one line on stderr and exit code 1 (never a stack
/// trace): bad files, bad option values, corrupt checkpoints. Unexpected exceptions still surface.
/// </summary>
public static partial class CommandRunner
{
    /// <summary>
    /// <see cref="Guard(Func{int})"/> for long commands: the first Ctrl+C cancels the token (training
    /// writes a checkpoint and stops; exit 130), a second one ends the process at once.
    /// </summary>
    public static int Guard(Func<CancellationToken, int> body)
    {
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (interrupt.IsCancellationRequested) return;
            e.Cancel = true;
            Console.Error.WriteLine("stopping after this step (Ctrl+C again to quit at once) …");
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return Guard(() => body(interrupt.Token));
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (RunFolderInUseException e)
        {
            return Fail($"{e.Message}; wait for it to finish or use another --out");
        }
        catch (RunFolderConflictException e)
        {
            return Fail(e.Conflict == RunFolderConflict.HoldsARun
                ? $"{e.Message}; pass --resume to continue it or --overwrite to replace it"
                : $"--resume: {e.Message}; use another --out, or pass --overwrite instead of --resume to replace it");
        }
        catch (ArgumentException e) when (e.ParamName is { } path && FlagOf(path) is { } flag)
        {
            return Fail($"{flag}: {InFlags(OptionCheck.ReasonOf(e), path)}");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException or JsonException or NotFiniteNumberException)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted; a checkpoint was written — rerun with --resume to continue");
            return 130;
        }
    }

    /// <summary>The flag of an option-property path; a command's own checks name their flag directly ("--repeats").</summary>
    private static string? FlagOf(string path) => path.StartsWith("--", StringComparison.Ordinal) ? path : OptionFlags.FlagFor(path);

    /// <summary>
    /// <paramref name="reason"/> with the property names it mentions turned into their flags: a name is looked up beside
    /// the culprit (<c>DModel</c> next to <c>Model.Stack.Heads</c> is <c>Model.Stack.DModel</c>), then in each enclosing record, then as a whole path (<c>Model.SeqLen</c>).
    /// </summary>
    internal static string InFlags(string reason, string path)
    {
        var parts = path.Split('.');
        // The record of the culprit first, then each record around it, then the whole tree.
        var scopes = Enumerable.Range(0, parts.Length).Reverse().Select(n => string.Concat(parts.Take(n).Select(p => p + "."))).ToList();
        return PropertyName().Replace(reason, m => scopes.Select(scope => OptionFlags.FlagFor(scope + m.Value)).FirstOrDefault(f => f is not null) ?? m.Value);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*\b")]
    private static partial System.Text.RegularExpressions.Regex PropertyName();

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        return 1;
    }
}
