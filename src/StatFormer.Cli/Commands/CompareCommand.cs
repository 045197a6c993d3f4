using System.CommandLine;
using System.Globalization;
using StatFormer.Language.Experiments;
using StatFormer.Reporting;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer compare`: model variants (softmax vs elliptical, SMoE vs AC-SMoE, …) on equal footing across seeds.</summary>
public static class CompareCommand
{
    public static Command Build() => Create("compare",
        "Train every model variant on the same data, budget and attack draw across seeds; print mean ± std and write summary.json, report.md and plots to --out.",
        defaultSeeds: 3, defaultOut: "runs/compare", defaultVariants: "softmax,elliptical", baseline: null);

    /// <summary>A comparison command with the given defaults.</summary>
    internal static Command Create(string name, string description, int defaultSeeds, string defaultOut, string defaultVariants, LmRunOptions? baseline)
    {
        var command = new Command(name, description);
        var read = AddOptions(command, defaultSeeds, defaultOut, defaultVariants, baseline, out var json);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var isJson = result.GetValue(json);
            var summary = RunAndPrint(read(result), isJson, cancellationToken);
            if (isJson) Output.Json(summary);
            return 0;
        }));
        return command;
    }

    /// <summary>Adds the comparison options to <paramref name="command"/> and returns how to read them (the demo reuses both).</summary>
    internal static Func<ParseResult, ComparisonOptions> AddOptions(Command command, int defaultSeeds, string defaultOut, string defaultVariants, LmRunOptions? baseline, out Option<bool> json)
    {
        var shared = new RunOptionSet();
        shared.AddTo(command);
        json = shared.Json;
        var seeds = new Option<int>("--seeds") { Description = "Number of seeds (0, 1, …, N−1).", DefaultValueFactory = _ => defaultSeeds };
        var variants = new Option<string>("--variants", "--attention")
        {
            Description = "Comma-separated model variants: softmax, elliptical, an MoE router (smoe, xmoe, ac-smoe, ac-xmoe) or both joined by '+' (elliptical+ac-smoe).",
            DefaultValueFactory = _ => defaultVariants,
        };
        var targetPpl = new Option<double?>("--target-ppl") { Description = "Convergence: report the steps until the validation perplexity first reaches this (default: the worst run's best, which every run reaches)." };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => defaultOut };
        command.Options.Add(seeds);
        command.Options.Add(variants);
        command.Options.Add(targetPpl);
        command.Options.Add(outDir);
        return result =>
        {
            var seedCount = result.GetValue(seeds);
            if (seedCount < 1) throw new UserInputException($"--seeds must be at least 1 (got {seedCount})");
            var run = shared.Read(result, baseline);
            return new ComparisonOptions
            {
                Run = run,
                Seeds = Enumerable.Range(0, seedCount).ToList(),
                Variants = ModelVariant.ParseList(result.GetValue(variants)!),
                TargetValidPpl = result.GetValue(targetPpl),
                OutDir = result.GetValue(outDir)!,
                Resume = run.Resume,
                Overwrite = run.Overwrite,
            };
        };
    }

    /// <summary>Runs the comparison with progress on stderr and, unless <paramref name="json"/>, prints its tables and where the report is.</summary>
    internal static ComparisonSummary RunAndPrint(ComparisonOptions options, bool json, CancellationToken cancellationToken = default)
    {
        var view = new TrainingProgressView();
        var summary = view.Run(progressFor => ComparisonExperiment.Run(options, progressFor, json ? null : view.Status, cancellationToken));
        if (json) return summary;
        var (header, rows) = LmComparisonReport.Table(summary);
        Output.Table($"compare: {summary.Data} ({summary.Tokenizer}), {summary.Seeds.Count} seed(s), perplexity mean ± std", header, rows);
        if (LmComparisonReport.RoutingTable(summary) is { } routing)
            Output.Table("routing diagnostics (mean over MoE layers, mean ± std over seeds)", routing.Header, routing.Rows);
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"report: {Path.GetFullPath(summary.Report)}"));
        Output.Line($"plots:  {string.Join(", ", summary.Plots.Select(p => Path.GetFullPath(Path.Combine(options.OutDir, p))))}");
        return summary;
    }
}
