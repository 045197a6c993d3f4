using System.CommandLine;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;
using StatFormer.Options;
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
        var start = baseline ?? new FairRunOptions();
        var runBaseline = start with { Output = start.Output with { OutDir = defaultOut } };
        // The method and seed are set per run.
        var tree = new OptionTree<FairRunOptions>(OptionFlags.Fair.Where(f => f.Path is not ("Model.Method" or "Train.Seed")), runBaseline);
        tree.AddTo(command);
        var jsonFlag = JsonFlag.Add(command);
        var methods = new Option<string>("--methods")
        {
            Description = $"{Describe("Methods")} One or more of: {string.Join(", ", EnumNames.CliNames<ContrastiveMethod>())}.",
            DefaultValueFactory = _ => string.Join(",", EnumNames.CliNames<ContrastiveMethod>()),
        };
        var seeds = new Option<int>("--seeds") { Description = Describe("Seeds"), DefaultValueFactory = _ => defaultSeeds };
        var shard = new Option<string?>("--shard") { Description = Describe("Shard") };
        command.Options.Add(shard);
        command.Options.Add(methods);
        command.Options.Add(seeds);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var seedCount = result.GetValue(seeds);
            OptionCheck.Require(seedCount >= 1, nameof(FairComparisonOptions.Seeds), $"must be at least 1 (got {seedCount})");
            var run = tree.Read(result, runBaseline);
            run.Validate();
            var options = new FairComparisonOptions
            {
                Run = run,
                Methods = ParseMethods(result.GetValue(methods)!),
                Seeds = Enumerable.Range(0, seedCount).ToList(),
                Shard = result.GetValue(shard),
            };
            var json = result.GetValue(jsonFlag);
            if (options.Shard is not null)
            {
                var view = new TrainingProgressView("samples/s");
                ShardOutput.Print(view.Run(progressFor => FairComparison.RunShard(options, progressFor, json ? null : view.Status, cancellationToken, device)), json);
                return 0;
            }
            var summary = RunAndPrint(options, json, cancellationToken, device);
            if (json) Output.Json(summary);
            return 0;
        }));
        return command;
    }

    private static string Describe(string path) => OptionFlags.FairComparison.First(f => f.Path == path).Description;

    /// <summary>Comma-separated method names (infonce, fair-infonce, cclk, fare, sparse-fare), each once.</summary>
    private static IReadOnlyList<ContrastiveMethod> ParseMethods(string text)
    {
        const string property = nameof(FairComparisonOptions.Methods);
        var methods = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => EnumNames.Parse<ContrastiveMethod>(name, property)).ToList();
        OptionCheck.Require(methods.Count > 0, property, $"must name at least one of: {string.Join(", ", EnumNames.CliNames<ContrastiveMethod>())}");
        OptionCheck.Require(methods.Distinct().Count() == methods.Count, property, "names a method twice");
        return methods;
    }

    /// <summary>Runs the comparison with progress on stderr and, unless <paramref name="json"/>, prints its table and where the report is.</summary>
    internal static FairComparisonSummary RunAndPrint(FairComparisonOptions options, bool json, CancellationToken cancellationToken = default,
        TorchSharp.torch.Device? device = null)
    {
        var view = new TrainingProgressView("samples/s");
        var summary = view.Run(progressFor => FairComparison.Run(options, progressFor, json ? null : view.Status, cancellationToken, device));
        if (json) return summary;
        var (header, rows) = FairComparisonReport.Table(summary);
        Output.Table($"fair compare: {summary.Data} (z = {summary.Sensitive}), {summary.Seeds.Count} seed(s), mean ± std", header, rows);
        Output.Line($"report: {Path.GetFullPath(summary.Report)}");
        Output.Line($"plots:  {string.Join(", ", summary.Plots.Select(p => Path.GetFullPath(Path.Combine(options.Run.Output.OutDir, p))))}");
        return summary;
    }
}
