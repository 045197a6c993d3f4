using System.Text.Json;
using StatFormer.IO;
using StatFormer.Options;

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
        catch (ArgumentException e) when (OptionFlag(e.ParamName) is { } flag)
        {
            return Fail($"{flag}: {OptionCheck.ReasonOf(e)}");
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

    // The flag of a model-option property path (Stack.Moe.Layer.TopK → --top-k), for validation errors the
    // library reports by property; null for paths no flag sets.
    private static string? OptionFlag(string? path) => path?.Split('.')[^1] switch
    {
        "Layers" => "--layers", "DModel" => "--d-model", "Heads" => "--heads", "SeqLen" => "--seq-len", "Dropout" => "--dropout",
        "Every" => "--moe-every", "BalanceWeight" => "--balance-weight", "AcBaseLayers" => "--ac-base-layers",
        "Experts" => "--experts", "TopK" => "--top-k", "CapacityFactor" => "--capacity-factor", "ExpertHidden" => "--expert-hidden",
        "VocabSize" => "vocabulary", _ => null,
    };

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        return 1;
    }
}
