using System.CommandLine;
using StatFormer.Options;
using StatFormer.Vision.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer vision compare`: image classifiers (softmax vs elliptical ViT, the ResNet reference) on equal footing across seeds.</summary>
public static class VisionCompareCommand
{
    public const string DefaultVariants = "softmax,elliptical,resnet18";

    public static Command Build()
    {
        var command = new Command("compare",
            "Train every image classifier on the same images, batches, augmentation and budget across seeds, attack each with the same draws; print mean ± std and write summary.json, report.md and plots to --out.");
        var read = AddOptions(command, defaultSeeds: 3, defaultOut: Path.Combine("runs", "vision-compare"), DefaultVariants, new VisionRunOptions(), out var json);
        var shard = new Option<string?>("--shard") { Description = Describe("Shard") };
        command.Options.Add(shard);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var isJson = result.GetValue(json);
            var options = read(result) with { Shard = result.GetValue(shard) };
            options.Validate();
            var device = DeviceFlag.Read(result, deviceFlag);
            if (options.Shard is not null)
            {
                var view = new TrainingProgressView("img/s");
                ShardOutput.Print(view.Run(progressFor => VisionComparison.RunShard(options, progressFor, isJson ? null : view.Status, cancellationToken, device)), isJson);
                return 0;
            }
            var summary = RunAndPrint(options, isJson, cancellationToken, device);
            if (isJson) Output.Json(summary);
            return 0;
        }));
        return command;
    }

    /// <summary>The run flags a comparison takes: all but those each variant and seed set (architecture, attention, seed) and the one-model --init-from.</summary>
    internal static IEnumerable<OptionFlag> RunFlags => OptionFlags.Vision.Where(f => f.Path is not ("Model.Architecture" or "Model.Stack.Attention" or "Train.Seed" or "InitFrom"));

    /// <summary>Adds the comparison options to <paramref name="command"/> and returns how to read them (the demo reuses both).</summary>
    internal static Func<ParseResult, VisionComparisonOptions> AddOptions(Command command, int defaultSeeds, string defaultOut, string defaultVariants,
        VisionRunOptions baseline, out Option<bool> json)
    {
        var runBaseline = baseline with { Output = new RunOutputOptions { OutDir = defaultOut } };
        var tree = new OptionTree<VisionRunOptions>(RunFlags, runBaseline);
        tree.AddTo(command);
        json = JsonFlag.Add(command);
        var seeds = new Option<int>("--seeds") { Description = Describe("Seeds"), DefaultValueFactory = _ => defaultSeeds };
        var variants = new Option<string>("--variants") { Description = Describe("Variants"), DefaultValueFactory = _ => defaultVariants };
        command.Options.Add(seeds);
        command.Options.Add(variants);
        return result =>
        {
            var seedCount = result.GetValue(seeds);
            OptionCheck.Require(seedCount >= 1, nameof(VisionComparisonOptions.Seeds), $"must be at least 1 (got {seedCount})");
            var options = new VisionComparisonOptions
            {
                Run = tree.Read(result, runBaseline),
                Seeds = Enumerable.Range(0, seedCount).ToList(),
                Variants = result.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(v => EnumNames.Parse<VisionVariant>(v, nameof(VisionComparisonOptions.Variants))).ToList(),
            };
            options.Validate();
            return options;
        };
    }

    private static string Describe(string path) => OptionFlags.VisionComparison.First(f => f.Path == path).Description;

    /// <summary>Runs the comparison with progress on stderr and, unless <paramref name="json"/>, prints its table and where the report is.</summary>
    internal static VisionComparisonSummary RunAndPrint(VisionComparisonOptions options, bool json, CancellationToken cancellationToken = default,
        TorchSharp.torch.Device? device = null)
    {
        var view = new TrainingProgressView("img/s");
        var summary = view.Run(progressFor => VisionComparison.Run(options, progressFor, json ? null : view.Status, cancellationToken, device));
        if (json) return summary;
        var (header, rows) = Reporting.VisionComparisonReport.Table(summary);
        Output.Table($"vision compare: {summary.Data}, {summary.Seeds.Count} seed(s), accuracy % mean ± std", header, rows);
        if (Reporting.VisionComparisonReport.RoutingTable(summary) is { } routing)
            Output.Table("routing diagnostics (whole test set, mean over MoE layers, mean ± std over seeds)", routing.Header, routing.Rows);
        if (Reporting.VisionCorruptionReport.Table(summary.Variants) is { } corruption)
            Output.Table("common corruptions (same images and draws for every model; mCE vs the reference = 100)", corruption.Header, corruption.Rows);
        Output.Line($"report: {Path.GetFullPath(summary.Report)}");
        Output.Line($"plots:  {string.Join(", ", summary.Plots.Select(p => Path.GetFullPath(Path.Combine(options.Run.Output.OutDir, p))))}");
        return summary;
    }
}
