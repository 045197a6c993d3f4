using System.Text.Json;

namespace StatFormer.Cli;

/// <summary>
/// Runs a command body and turns user errors into one line on stderr and exit code 1 (never a stack
/// trace): bad files, bad option values, corrupt checkpoints. Unexpected exceptions still surface.
/// </summary>
public static class CommandRunner
{
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
