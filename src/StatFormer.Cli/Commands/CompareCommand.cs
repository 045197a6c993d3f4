using System.CommandLine;
using System.Globalization;
using StatFormer.Language.Experiments;
using StatFormer.Options;
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
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var isJson = result.GetValue(json);
            var options = read(result);
            var device = DeviceFlag.Read(result, deviceFlag);
            if (options.Shard is not null)
            {
                var view = new TrainingProgressView();
                var done = view.Run(progressFor => LmComparison.RunShard(options, progressFor, isJson ? null : view.Status, cancellationToken, device));
                ShardOutput.Print(done, isJson);
                return 0;
            }
            var summary = RunAndPrint(options, isJson, device, cancellationToken);
            if (isJson) Output.Json(summary);
            return 0;
        }));
        return command;
    }

    /// <summary>The run flags a comparison takes: all but those it sets per run (the variant's attention and router, the seed).</summary>
    internal static IEnumerable<OptionFlag> RunFlags => OptionFlags.Lm.Where(f => f.Path is not ("Model.Stack.Attention" or "Model.Stack.Moe.Router" or "Train.Seed"));

    /// <summary>Adds the comparison options to <paramref name="command"/> and returns how to read them (the demo reuses both).</summary>
    internal static Func<ParseResult, LmComparisonOptions> AddOptions(Command command, int defaultSeeds, string defaultOut, string defaultVariants, LmRunOptions? baseline, out Option<bool> json)
    {
        var runBaseline = (baseline ?? new LmRunOptions()) with { Output = new RunOutputOptions { OutDir = defaultOut } };
        var tree = new OptionTree<LmRunOptions>(RunFlags, runBaseline);
        tree.AddTo(command);
        json = JsonFlag.Add(command);
        var seeds = new Option<int>("--seeds") { Description = Describe("Seeds"), DefaultValueFactory = _ => defaultSeeds };
        var variantFlag = OptionFlags.Comparison.First(f => f.Path == "Variants");
        var variants = new Option<string>(variantFlag.Name, variantFlag.Names[1..]) { Description = variantFlag.Description, DefaultValueFactory = _ => defaultVariants };
        var targetPpl = new Option<double?>("--target-ppl") { Description = Describe("TargetValidPpl") };
        var shard = new Option<string?>("--shard") { Description = Describe("Shard") };
        command.Options.Add(shard);
        command.Options.Add(seeds);
        command.Options.Add(variants);
        command.Options.Add(targetPpl);
        return result =>
        {
            var seedCount = result.GetValue(seeds);
            OptionCheck.Require(seedCount >= 1, nameof(LmComparisonOptions.Seeds), $"must be at least 1 (got {seedCount})");
            var options = new LmComparisonOptions
            {
                Run = tree.Read(result, runBaseline),
                Seeds = Enumerable.Range(0, seedCount).ToList(),
                Variants = ModelVariant.ParseList(result.GetValue(variants)!),
                TargetValidPpl = result.GetValue(targetPpl),
                Shard = result.GetValue(shard),
            };
            options.Validate();
            return options;
        };
    }

    private static string Describe(string path) => OptionFlags.Comparison.First(f => f.Path == path).Description;

    /// <summary>Runs the comparison with progress on stderr and, unless <paramref name="json"/>, prints its tables and where the report is.</summary>
    internal static LmComparisonSummary RunAndPrint(LmComparisonOptions options, bool json, TorchSharp.torch.Device device, CancellationToken cancellationToken = default)
    {
        var view = new TrainingProgressView();
        var summary = view.Run(progressFor => LmComparison.Run(options, progressFor, json ? null : view.Status, cancellationToken, device));
        if (json) return summary;
        var (header, rows) = LmComparisonReport.Table(summary);
        Output.Table($"compare: {summary.Data} ({summary.Tokenizer}), {summary.Seeds.Count} seed(s), perplexity mean ± std", header, rows);
        if (LmComparisonReport.RoutingTable(summary) is { } routing)
            Output.Table("routing diagnostics (mean over MoE layers, mean ± std over seeds)", routing.Header, routing.Rows);
        Output.Line(string.Create(CultureInfo.InvariantCulture, $"report: {Path.GetFullPath(summary.Report)}"));
        Output.Line($"plots:  {string.Join(", ", summary.Plots.Select(p => Path.GetFullPath(Path.Combine(options.Run.Output.OutDir, p))))}");
        return summary;
    }
}
