using System.Diagnostics;
using Spectre.Console;
using StatFormer.Training;

namespace StatFormer.Cli;

/// <summary>
/// Shows training progress on stderr (so stdout stays clean for --json): a live bar with loss,
/// throughput and ETA on a terminal, or a plain line every few seconds when stderr is redirected.
/// </summary>
/// <param name="throughputUnit">What the trainer counts per step, per second: "tok/s" (language models), "img/s" (vision), "samples/s" (fair).</param>
public sealed class TrainingProgressView(string throughputUnit = "tok/s")
{
    private readonly IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public bool Interactive => console.Profile.Capabilities.Interactive && !Console.IsErrorRedirected;

    /// <summary>Runs <paramref name="body"/> with a factory of per-run progress sinks.</summary>
    public T Run<T>(Func<Func<string, IProgress<TrainingProgress>>, T> body)
    {
        if (!Interactive) return body(label => new LineProgress(this, label));
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => { result = body(label => new BarProgress(this, ctx.AddTask(label), label)); });
        return result;
    }

    public void Status(string message) => console.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

    private string Describe(string label, TrainingProgress p) =>
        $"{label}: step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}" + (p.ValidLoss is { } v ? $" valid {v:F3}" : "") +
        $" {p.TokensPerSecond:F0} {throughputUnit} ETA {p.Eta:hh\\:mm\\:ss}";

    private sealed class BarProgress(TrainingProgressView view, ProgressTask task, string label) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            task.MaxValue = value.TotalSteps;
            task.Value = value.Step;
            task.Description = Markup.Escape(view.Describe(label, value));
        }
    }

    private sealed class LineProgress(TrainingProgressView view, string label) : IProgress<TrainingProgress>
    {
        private readonly Stopwatch sinceLast = Stopwatch.StartNew();
        private bool first = true;

        public void Report(TrainingProgress value)
        {
            if (!first && sinceLast.Elapsed < TimeSpan.FromSeconds(5) && value.Step < value.TotalSteps && value.ValidLoss is null) return;
            first = false;
            sinceLast.Restart();
            Console.Error.WriteLine(view.Describe(label, value));
        }
    }
}
