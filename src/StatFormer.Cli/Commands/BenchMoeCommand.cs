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
        var batch = new Option<int>("--batch") { Description = "Sequences per batch.", DefaultValueFactory = _ => defaults.Batch };
        var seq = new Option<int>("--seq") { Description = "Tokens per sequence.", DefaultValueFactory = _ => defaults.Seq };
        var dModel = new Option<int>("--d-model") { DefaultValueFactory = _ => defaults.DModel };
        var experts = new Option<int>("--experts") { DefaultValueFactory = _ => defaults.Experts };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => defaults.TopK };
        var expertHidden = new Option<int>("--expert-hidden") { Description = "Hidden width of each expert.", DefaultValueFactory = _ => defaults.ExpertHidden };
        var repeats = new Option<int>("--repeats") { Description = "Timed steps per measurement (median; best of 3 interleaved rounds).", DefaultValueFactory = _ => defaults.Repeats };
        var json = new Option<bool>("--json") { Description = "Print JSON on stdout." };
        foreach (var option in new Option[] { batch, seq, dModel, experts, topK, expertHidden, repeats, json }) command.Options.Add(option);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var options = new MoeBenchmarkOptions
            {
                Batch = result.GetValue(batch), Seq = result.GetValue(seq), DModel = result.GetValue(dModel), Experts = result.GetValue(experts),
                TopK = result.GetValue(topK), ExpertHidden = result.GetValue(expertHidden), Repeats = result.GetValue(repeats),
            };
            options.Validate();
            var measured = MoeBenchmark.Measure(options);
            if (result.GetValue(json))
            {
                Output.Json(measured);
                return 0;
            }
            Output.Table($"bench moe (training step ms, B{measured.Batch} T{measured.Seq} d{measured.DModel} E{measured.Experts} k{measured.TopK} h{measured.ExpertHidden}, {TorchSharp.torch.get_num_threads()} threads)",
                new[] { "variant", "stack", "params", "step ms" },
                measured.Variants.Select(v => (IReadOnlyList<string>)new[]
                {
                    v.Variant, v.Stack, v.Parameters.ToString("N0", CultureInfo.InvariantCulture), v.StepMs.ToString("F2", CultureInfo.InvariantCulture),
                }));
            Output.Line(string.Create(CultureInfo.InvariantCulture,
                $"ac-smoe/smoe {measured.RatioAcSmoeSmoe:F3}   ac-xmoe/xmoe {measured.RatioAcXmoeXmoe:F3}   smoe/dense {measured.RatioSmoeDense:F3}"));
            return 0;
        }));
        return command;
    }
}
