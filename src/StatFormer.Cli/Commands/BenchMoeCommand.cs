using System.CommandLine;
using System.Globalization;
using StatFormer.Benchmarks;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer bench moe`: training-step time of two-layer dense, SMoE, AC-SMoE, XMoE and AC-XMoE stacks.</summary>
public static class BenchMoeCommand
{
    public static Command Build()
    {
        var command = new Command("moe", "Training-step milliseconds (forward, backward, AdamW) of two-layer stacks: dense FFN (hidden = expert hidden × top-k), smoe+smoe, smoe+ac-smoe, xmoe+xmoe, xmoe+ac-xmoe; ratios AC/base and SMoE/dense.");
        var defaults = new MoeBenchmarkOptions();
        var tree = new OptionTree<MoeBenchmarkOptions>(OptionFlags.BenchMoe, defaults);
        tree.AddTo(command, withConfig: false);
        var json = JsonFlag.Add(command);
        var clock = ClockFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var device = DeviceFlag.Read(result, deviceFlag);
            var options = tree.Read(result, defaults);
            options.Validate();
            var clockValue = ClockFlag.Apply(result, clock);
            var measured = MoeBenchmark.Measure(options, device);
            if (result.GetValue(json))
            {
                Output.Json(measured);
                return 0;
            }
            Output.Table($"bench moe (training step ms, B{measured.Batch} T{measured.Seq} d{measured.DModel} E{measured.Experts} k{measured.TopK} h{measured.ExpertHidden}, {ClockFlag.Describe(clockValue)}, experts: {(measured.Computation == StatFormer.Moe.ExpertComputation.Padded ? "padded batched matmuls" : "per-expert matmuls")})",
                new[] { "variant", "stack", "params", "step ms", "expert rows / assignment" },
                measured.Variants.Select(v => (IReadOnlyList<string>)new[]
                {
                    v.Variant, v.Stack, v.Parameters.ToString("N0", CultureInfo.InvariantCulture), v.StepMs.ToString("F2", CultureInfo.InvariantCulture),
                    double.IsNaN(v.ExpertRowsPerAssignment) ? "–" : v.ExpertRowsPerAssignment.ToString("F3", CultureInfo.InvariantCulture),
                }));
            Output.Line(string.Create(CultureInfo.InvariantCulture,
                $"ac-smoe/smoe {measured.RatioAcSmoeSmoe:F3}   ac-xmoe/xmoe {measured.RatioAcXmoeXmoe:F3} (paired steps)   smoe/dense {measured.RatioSmoeDense:F3} (best medians), {measured.RatioSmoeDensePaired:F3} (paired steps); limit {measured.FlopLimitSmoeDense:F3} (matmul FLOPs), {measured.LimitWithOptimizerSmoeDense:F3} with AdamW over the {measured.Experts / (double)measured.TopK:0.#}× larger MoE parameter set, {measured.LimitWithPaddingSmoeDense:F3} with the padded expert rows too"));
            if (ClockFlag.Warning(clockValue) is { } warning) Output.Line(warning);
            static string Ms(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
            static string MiB(double value) => value.ToString("F0", CultureInfo.InvariantCulture);
            Output.Table("step breakdown (ms per step, both layers; backward covers all layers)",
                new[] { "variant", "router", "top-k+balance", "permutation", "expert matmuls", "combine", "other fwd", "backward", "optimizer", "peak RSS MiB", "step MiB" },
                measured.Variants.Select(v => (IReadOnlyList<string>)new[]
                {
                    v.Variant, Ms(v.Breakdown.Router), Ms(v.Breakdown.TopKAndBalance), Ms(v.Breakdown.Permutation), Ms(v.Breakdown.ExpertMatmuls),
                    Ms(v.Breakdown.Combine), Ms(v.Breakdown.OtherForward), Ms(v.Breakdown.Backward), Ms(v.Breakdown.Optimizer),
                    MiB(v.PeakResidentMiB), MiB(v.StepMemoryMiB),
                }));
            Output.Line(measured.PeakMemoryPerVariant
                ? "peak RSS: the whole process's resident memory (runtime, libtorch, every stack's weights and optimizer state), reset before each variant; step MiB: its rise during that variant's steps (activations, gradients, temporaries)"
                : "peak RSS: the whole process's peak since start (this system cannot reset it), so only the first variant's figure is its own");
            return 0;
        }));
        return command;
    }
}
