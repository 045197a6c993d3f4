using System.CommandLine;
using System.Globalization;
using StatFormer.Attention;
using StatFormer.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer compare`: softmax vs elliptical on equal footing across seeds.</summary>
public static class CompareCommand
{
    public static Command Build() => Create("compare",
        "Train every attention variant on the same data, budget and attack draw across seeds; print mean ± std and write summary.json, report.md and plots to --out.",
        defaultSeeds: 3, defaultOut: "runs/compare", baseline: null);

    /// <summary>A comparison command; `demo` is the same command with other defaults (<paramref name="baseline"/>).</summary>
    internal static Command Create(string name, string description, int defaultSeeds, string defaultOut, LmRunOptions? baseline)
    {
        var command = new Command(name, description);
        var shared = new RunOptionSet();
        shared.AddTo(command);
        var seeds = new Option<int>("--seeds") { Description = "Number of seeds (0, 1, …, N−1).", DefaultValueFactory = _ => defaultSeeds };
        var attentions = new Option<string>("--attention") { Description = "Comma-separated variants to compare: softmax, elliptical.", DefaultValueFactory = _ => "softmax,elliptical" };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => defaultOut };
        command.Options.Add(seeds);
        command.Options.Add(attentions);
        command.Options.Add(outDir);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var options = Read(result, shared, seeds, attentions, outDir, baseline);
            return Execute(options, result.GetValue(shared.Json), cancellationToken);
        }));
        return command;
    }

    private static ComparisonOptions Read(ParseResult result, RunOptionSet shared, Option<int> seeds, Option<string> attentions, Option<string> outDir, LmRunOptions? baseline)
    {
        var seedCount = result.GetValue(seeds);
        if (seedCount < 1) throw new UserInputException($"--seeds must be at least 1 (got {seedCount})");
        var run = shared.Read(result, baseline);
        return new ComparisonOptions
        {
            Run = run,
            Seeds = Enumerable.Range(0, seedCount).ToList(),
            Attentions = ParseAttentions(result.GetValue(attentions)!),
            OutDir = result.GetValue(outDir)!,
            Resume = run.Resume,
        };
    }

    internal static IReadOnlyList<AttentionKind> ParseAttentions(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(RunOptionSet.ParseAttention).Distinct().ToList();

    private static int Execute(ComparisonOptions options, bool json, CancellationToken cancellationToken = default)
    {
        var view = new TrainingProgressView();
        var summary = view.Run(progressFor => ComparisonExperiment.Run(options, progressFor, json ? null : view.Status, cancellationToken));
        if (json)
        {
            Output.Json(summary);
            return 0;
        }
        var (header, rows) = ComparisonExperiment.Table(summary);
        Output.Table($"compare: {summary.Data} ({summary.Tokenizer}), {summary.Seeds.Count} seed(s), perplexity mean ± std", header, rows);
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"report: {Path.GetFullPath(summary.Report)}"));
        Output.Line($"plots:  {string.Join(", ", summary.Plots.Select(p => Path.GetFullPath(Path.Combine(options.OutDir, p))))}");
        return 0;
    }
}
