using System.Text.Json;
using Spectre.Console;
using StatFormer.Cli;

namespace StatFormer.Tests.Cli;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public JsonElement Json() => JsonDocument.Parse(Stdout).RootElement.Clone();

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the CLI in-process with stdout and stderr captured (tests using it belong to <see cref="CliCollection"/>).</summary>
internal static class CliHarness
{
    /// <summary>The tiny model and evaluation every CLI test trains: seconds on one core.</summary>
    public static string[] Tiny(int steps = 4, int seqLen = 16, int dModel = 16, int heads = 2, string attackRates = "0.1,0.2") =>
    [
        "--layers", "2", "--d-model", $"{dModel}", "--heads", $"{heads}", "--seq-len", $"{seqLen}", "--batch-size", "4",
        "--steps", $"{steps}", "--warmup", "2", "--eval-every", "2", "--valid-tokens", "256", "--eval-tokens", "512",
        "--attack-rates", attackRates,
    ];

    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldError, oldAnsi) = (Console.Out, Console.Error, AnsiConsole.Console);
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            // Spectre's static console binds to the Console.Out of its first use; point it at the capture.
            var ansi = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            });
            ansi.Profile.Width = 1000;
            AnsiConsole.Console = ansi;
            var code = StatFormerCli.Run(args);
            return new CliResult(code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            AnsiConsole.Console = oldAnsi;
        }
    }

    /// <summary>A user error: non-zero exit, exactly one stderr line "error: …" naming every culprit, no stack trace anywhere.</summary>
    public static void AssertOneLineError(CliResult result, params string[] culprits)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error:", line);
        foreach (var culprit in culprits) Assert.Contains(culprit, line);
    }

    /// <summary>JSON re-written without the source's whitespace, for comparing elements of different documents.</summary>
    public static string Canonical(JsonElement element) => JsonSerializer.Serialize(element);

    public static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} missing");
        var head = new byte[8];
        using (var stream = File.OpenRead(path)) Assert.Equal(8, stream.Read(head, 0, 8));
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head);
    }
}
