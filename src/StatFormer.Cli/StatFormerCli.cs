using System.CommandLine;
using StatFormer.Cli.Commands;

namespace StatFormer.Cli;

/// <summary>The `statformer` command tree.</summary>
public static class StatFormerCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("StatFormer: Elliptical Attention language models — train, evaluate, attack, compare and benchmark.");
        var lm = new Command("lm", "Train or evaluate one language model.");
        lm.Subcommands.Add(LmTrainCommand.Build());
        lm.Subcommands.Add(LmEvalCommand.Build());
        root.Subcommands.Add(lm);
        root.Subcommands.Add(CompareCommand.Build());
        var bench = new Command("bench", "Speed benchmarks (figures and ratios from one run).");
        bench.Subcommands.Add(BenchAttentionCommand.Build());
        bench.Subcommands.Add(BenchLmCommand.Build());
        root.Subcommands.Add(bench);
        root.Subcommands.Add(DemoCommand.Build());
        return root;
    }

    public static int Run(string[] args) => Build().Parse(args).Invoke();
}
