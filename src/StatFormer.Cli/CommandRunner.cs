using System.Text.Json;
using StatFormer.IO;

namespace StatFormer.Cli;

/// <summary>
/// Runs a command body and turns user errors into one line on stderr and exit code 1 (never a stack
/// trace): bad files, bad option values, corrupt checkpoints. Unexpected exceptions still surface.
/// </summary>
public static class CommandRunner
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
        catch (UserInputException e)
        {
            return Fail(e.Message);
        }
        catch (RunFolderInUseException e)
        {
            return Fail($"{e.Message}; wait for it to finish or use another --out");
        }
        catch (ArgumentException e) when (e.Message.Contains("--", StringComparison.Ordinal))
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or JsonException)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted; a checkpoint was written — rerun with --resume to continue");
            return 130;
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        return 1;
    }
}
