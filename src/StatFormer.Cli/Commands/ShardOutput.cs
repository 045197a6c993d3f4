using StatFormer.Comparison;

namespace StatFormer.Cli.Commands;

/// <summary>What `compare --shard`, `fair compare --shard` and `vision compare --shard` print: the runs done and those still missing in the shared folder.</summary>
internal static class ShardOutput
{
    public static void Print(ComparisonShardResult result, bool json)
    {
        if (json)
        {
            Output.Json(result);
            return;
        }
        Output.Line($"shard {result.Shard}: {result.Done.Count} run(s) done: {string.Join(", ", result.Done)}");
        Output.Line(result.Missing.Count == 0
            ? "every run of the comparison has finished: run the same command without --shard to aggregate"
            : $"still missing in the folder: {string.Join(", ", result.Missing)}");
    }
}
