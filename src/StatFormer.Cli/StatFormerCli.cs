using System.CommandLine;
using StatFormer.Cli.Commands;

namespace StatFormer.Cli;

/// <summary>The `statformer` command tree.</summary>
public static class StatFormerCli
{
    public static Command Build()
    {
        // A plain command named like the tool (RootCommand would take the assembly's name, StatFormer.Cli).
        var root = new Command("statformer", "StatFormer: Elliptical Attention language models — train, evaluate, attack, compare and benchmark.");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption());
        var lm = new Command("lm", "Train or evaluate one language model.");
        lm.Subcommands.Add(LmTrainCommand.Build());
        lm.Subcommands.Add(LmEvalCommand.Build());
        root.Subcommands.Add(lm);
        root.Subcommands.Add(CompareCommand.Build());
        var bench = new Command("bench", "Speed benchmarks (figures and ratios from one run).");
        bench.Subcommands.Add(BenchAttentionCommand.Build());
        bench.Subcommands.Add(BenchLmCommand.Build());
        bench.Subcommands.Add(BenchMoeCommand.Build());
        bench.Subcommands.Add(BenchFairCommand.Build());
        root.Subcommands.Add(bench);
        var fair = new Command("fair", "Fair contrastive learning (FARE, SparseFARE and baselines): train one run or compare methods.");
        fair.Subcommands.Add(FairTrainCommand.Build());
        fair.Subcommands.Add(FairCompareCommand.Build());
        root.Subcommands.Add(fair);
        root.Subcommands.Add(DemoCommand.Build());
        return root;
    }

    public static int Run(string[] args)
    {
        var result = Build().Parse(args);
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

    private static Option? OptionOf(System.CommandLine.Parsing.SymbolResult? symbol)
    {
        for (var current = symbol; current is not null; current = current.Parent)
            if (current is System.CommandLine.Parsing.OptionResult optionResult) return optionResult.Option;
        return null;
    }
}
