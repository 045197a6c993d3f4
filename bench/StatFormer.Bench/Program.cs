using StatFormer.Attention;
using StatFormer.Benchmarks;
using StatFormer.Language.Models;

// A documented harness (see docs/benchmarks.md): prints figures and ratios measured in one run.
// Usage: dotnet run -c Release --project bench/StatFormer.Bench [attention|lm|moe|all]
var what = args.Length > 0 ? args[0] : "all";
if (what is not ("attention" or "lm" or "moe" or "all"))
{
    Console.Error.WriteLine($"unknown benchmark '{what}'; expected attention, lm, moe or all");
    return 2;
}
Console.WriteLine($"libtorch threads: {TorchSharp.torch.get_num_threads()}");
if (what is "attention" or "all")
{
    Console.WriteLine("attention forward+backward (ms, best of 3 medians)");
    Console.WriteLine($"{"size",-22} {"softmax",9} {"ellipt.",9} {"explicit",9} {"ell/soft",9} {"paired",9} {"limit",9} {"expl/fused",10}");
    foreach (var size in AttentionBenchmark.DefaultSizes)
    {
        var r = AttentionBenchmark.Measure(size);
        Console.WriteLine($"{r.Size,-22} {r.SoftmaxMs,9:F2} {r.EllipticalMs,9:F2} {r.EllipticalExplicitMs,9:F2} {r.RatioEllipticalSoftmax,9:F3} {r.RatioEllipticalSoftmaxPaired,9:F3} {r.LimitEllipticalSoftmax,9:F3} {r.RatioExplicitFused,10:F2}");
    }
}
if (what is "lm" or "all")
{
    Console.WriteLine("LM training step (AdamW), vocab 8192, seq 256, batch 16");
    foreach (var attention in new[] { AttentionKind.Softmax, AttentionKind.Elliptical })
    {
        var config = new LmConfig { VocabSize = 8192, SeqLen = 256, Stack = new() { Layers = 4, DModel = 256, Heads = 4, Dropout = 0.0, Attention = attention } };
        var r = LmThroughputBenchmark.Measure(config, batchSize: 16);
        Console.WriteLine($"{r.Attention,-10} params {r.Parameters / 1e6:F2}M  step {r.StepMs:F1} ms  {r.TokensPerSecond:F0} tok/s  model {r.ModelGflopPerSecond:F1} GFLOP/s  GEMM {r.GemmGflopPerSecond:F1} GFLOP/s  MFU {100 * r.ModelFlopsUtilisation:F1}%");
    }
}
if (what is "moe" or "all")
{
    var options = new MoeBenchmarkOptions();
    Console.WriteLine($"MoE training step (2 stacked layers, AdamW), B{options.Batch} T{options.Seq} d{options.DModel} E{options.Experts} top-{options.TopK}, expert hidden {options.ExpertHidden} (dense hidden {options.ExpertHidden * options.TopK}: equal active parameters)");
    var r = MoeBenchmark.Measure(options);
    foreach (var v in r.Variants)
        Console.WriteLine($"{v.Variant,-8} {v.Stack,-14} params {v.Parameters / 1e6:F2}M  step {v.StepMs:F2} ms");
    Console.WriteLine($"ratio ac-smoe/smoe {r.RatioAcSmoeSmoe:F3}  ac-xmoe/xmoe {r.RatioAcXmoeXmoe:F3}  smoe/dense {r.RatioSmoeDense:F2} (paired {r.RatioSmoeDensePaired:F2}; FLOP limit {r.FlopLimitSmoeDense:F3})");
}
return 0;
