using System.CommandLine;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Reporting;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer fair compare`: every contrastive method on equal footing across seeds.</summary>
public static class FairCompareCommand
{
    public static Command Build() => Create("compare",
        "Train every contrastive method on the same data, encoder, budget and probes across seeds; print mean ± std and write summary.json, report.md and plots to --out.",
        defaultSeeds: 3, defaultOut: Path.Combine("runs", "fair-compare"), baseline: null);

    /// <summary>A comparison command; a demo is the same command with other defaults (<paramref name="baseline"/>, e.g. <see cref="FairComparison.DemoRun"/>).</summary>
    public static Command Create(string name, string description, int defaultSeeds, string defaultOut, FairRunOptions? baseline)
    {
        var command = new Command(name, description);
        var shared = new FairOptionSet();
        shared.AddTo(command);
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods to compare: {string.Join(", ", ContrastiveMethodNames.All)}.", DefaultValueFactory = _ => string.Join(",", ContrastiveMethodNames.All) };
        var seeds = new Option<int>("--seeds") { Description = "Number of seeds (0, 1, …, N−1).", DefaultValueFactory = _ => defaultSeeds };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => defaultOut };
        command.Options.Add(methods);
        command.Options.Add(seeds);
        command.Options.Add(outDir);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var seedCount = result.GetValue(seeds);
            if (seedCount < 1) throw new UserInputException($"--seeds must be at least 1 (got {seedCount})");
            var run = shared.Read(result, baseline);
            var options = new FairComparisonOptions
            {
                Run = run,
                Methods = FairOptionSet.ParseMethods(result.GetValue(methods)!),
                Seeds = Enumerable.Range(0, seedCount).ToList(),
                OutDir = result.GetValue(outDir)!,
                Resume = run.Resume,
                Overwrite = run.Overwrite,
            };
            var json = result.GetValue(shared.Json);
            var summary = RunAndPrint(options, json, cancellationToken);
            if (json) Output.Json(summary);
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the comparison with progress on stderr and, unless <paramref name="json"/>, prints its table and where the report is.</summary>
    internal static FairComparisonSummary RunAndPrint(FairComparisonOptions options, bool json, CancellationToken cancellationToken = default)
    {
        var view = new TrainingProgressView();
        var summary = view.Run(progressFor => FairComparison.Run(options, progressFor, json ? null : view.Status, cancellationToken));
        if (json) return summary;
        var (header, rows) = FairComparisonReport.Table(summary);
        Output.Table($"fair compare: {summary.Data} (z = {summary.Sensitive}), {summary.Seeds.Count} seed(s), mean ± std", header, rows);
        Output.Line($"report: {Path.GetFullPath(summary.Report)}");
        Output.Line($"plots:  {string.Join(", ", summary.Plots.Select(p => Path.GetFullPath(Path.Combine(options.OutDir, p))))}");
        return summary;
    }
}
