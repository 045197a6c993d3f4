using System.CommandLine;
using StatFormer.Cli.Commands;

namespace StatFormer.Cli;

/// <summary>The `statformer` command tree.</summary>
public static class StatFormerCli
{
    public static Command Build()
    {
        // A plain command named like the tool (RootCommand would take the assembly's name, StatFormer.Cli).
        var root = new Command("statformer",
            "StatFormer: Elliptical Attention, Adaptive Clustering MoE routers and fair contrastive learning (FARE, SparseFARE) — " +
            "train, evaluate, attack, compare and benchmark them. Commands: `lm train` / `lm eval` / `lm generate` (one language model), " +
            "`compare` (language-model variants across seeds), `fair train` / `fair compare` (fair contrastive methods), " +
            "`vision train` / `vision eval` / `vision compare` (image classifiers: ViT softmax or elliptical, ResNet-18; clean and under attack), " +
            "`probe elliptical|ac|fare` (controlled tasks where each paper predicts an effect), `demo` (the probes and the comparisons on embedded data), `bench attention|lm|moe|fair|generate|vision` (speed).");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption());
        var lm = new Command("lm", "Train, evaluate or generate from one language model.");
        lm.Subcommands.Add(LmTrainCommand.Build());
        lm.Subcommands.Add(LmEvalCommand.Build());
        lm.Subcommands.Add(LmGenerateCommand.Build());
        root.Subcommands.Add(lm);
        root.Subcommands.Add(CompareCommand.Build());
        root.Subcommands.Add(ExportCommand.Build());
        var bench = new Command("bench", "Speed benchmarks (figures and ratios from one run).");
        bench.Subcommands.Add(BenchAttentionCommand.Build());
        bench.Subcommands.Add(BenchLmCommand.Build());
        bench.Subcommands.Add(BenchMoeCommand.Build());
        bench.Subcommands.Add(BenchFairCommand.Build());
        bench.Subcommands.Add(BenchGenerateCommand.Build());
        bench.Subcommands.Add(BenchVisionCommand.Build());
        root.Subcommands.Add(bench);
        var fair = new Command("fair", "Fair contrastive learning (FARE, SparseFARE and baselines): train one run or compare methods.");
        fair.Subcommands.Add(FairTrainCommand.Build());
        fair.Subcommands.Add(FairCompareCommand.Build());
        root.Subcommands.Add(fair);
        var vision = new Command("vision", "Image classifiers (ViT with softmax or elliptical attention, the ResNet-18 reference): train one, evaluate it under attacks, compare variants.");
        vision.Subcommands.Add(VisionTrainCommand.Build());
        vision.Subcommands.Add(VisionEvalCommand.Build());
        vision.Subcommands.Add(VisionCompareCommand.Build());
        root.Subcommands.Add(vision);
        root.Subcommands.Add(ProbeCommand.Build());
        root.Subcommands.Add(DemoCommand.Build());
        return root;
    }

    public static int Run(string[] args)
    {
        var root = Build();
        // Checked before parsing: with --help the parser would drop the error and print the root help.
        if (UnknownCommand(root, args) is { } unknown)
        {
            Console.Error.WriteLine($"error: {unknown}");
            return 1;
        }
        var result = root.Parse(args);
        if (result.Errors.Count == 0) return result.Invoke();
        // One line per problem, naming the option or value, instead of the whole help text.
        foreach (var error in result.Errors)
        {
            var message = error.Message.ReplaceLineEndings(" ").Replace("\t", "", StringComparison.Ordinal);
            var option = OptionOf(error.SymbolResult);
            Console.Error.WriteLine(option is null ? $"error: {message} (see --help)" : $"error: {option.Name}: {message} (see --help)");
        }
        return 1;
    }

    /// <summary>
    /// Why the leading words of <paramref name="args"/> name no command (e.g. "unknown command 'vision' …"),
    /// or null when they do: each word before the first option must be a subcommand of the one before it.
    /// </summary>
    internal static string? UnknownCommand(Command root, IReadOnlyList<string> args)
    {
        var current = root;
        var path = new List<string>();
        foreach (var word in args)
        {
            if (word.StartsWith('-') || current.Subcommands.Count == 0) return null;
            var next = current.Subcommands.FirstOrDefault(c => c.Name == word || c.Aliases.Contains(word));
            path.Add(word);
            if (next is null)
            {
                var scope = current == root ? "" : $"{string.Join(' ', path.SkipLast(1))} ";
                return $"unknown command '{string.Join(' ', path)}' ({scope}commands: {string.Join(", ", current.Subcommands.Select(c => c.Name))}; see {root.Name} {scope}--help)";
            }
            current = next;
        }
        return null;
    }

    private static Option? OptionOf(System.CommandLine.Parsing.SymbolResult? symbol)
    {
        for (var current = symbol; current is not null; current = current.Parent)
            if (current is System.CommandLine.Parsing.OptionResult optionResult) return optionResult.Option;
        return null;
    }
}
