using StatFormer.Attention;
using StatFormer.Language.Generation;
using StatFormer.Language.Models;
using StatFormer.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>The problem size of the generation benchmark; the context is exactly prompt + new tokens, so no window slides.</summary>
public sealed record GenerationBenchmarkOptions
{
    /// <summary>Tokens of the (random) prompt.</summary>
    public int PromptTokens { get; init; } = 32;
    /// <summary>Tokens generated after it (greedy).</summary>
    public int NewTokens { get; init; } = 96;
    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 4;
    /// <summary>Model width.</summary>
    public int DModel { get; init; } = 128;
    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Vocabulary size.</summary>
    public int Vocab { get; init; } = 1024;
    /// <summary>Untimed generations before measuring.</summary>
    public int Warmup { get; init; } = 1;
    /// <summary>Timed generations per decoder and attention (median).</summary>
    public int Repeats { get; init; } = 5;
    /// <summary>Interleaved rounds over all decoders and attentions (the best median is kept).</summary>
    public int Rounds { get; init; } = 3;
    /// <summary>Seeds the weights and the prompt.</summary>
    public int Seed { get; init; }

    /// <summary>The benchmarked model (dropout off; elliptical in all but layer 0, causal estimator).</summary>
    public LmConfig Model(AttentionKind attention) => new()
    {
        VocabSize = Vocab, SeqLen = PromptTokens + NewTokens,
        Stack = new() { Layers = Layers, DModel = DModel, Heads = Heads, Dropout = 0.0, Attention = attention },
    };

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(PromptTokens >= 1, nameof(PromptTokens), $"must be at least 1 (got {PromptTokens})");
        OptionCheck.Require(NewTokens >= 1, nameof(NewTokens), $"must be at least 1 (got {NewTokens})");
        OptionCheck.Require(Vocab >= 2, nameof(Vocab), $"must be at least 2 (got {Vocab})");
        OptionCheck.Require(Repeats >= 1, nameof(Repeats), $"must be at least 1 (got {Repeats})");
        OptionCheck.Require(Rounds >= 1, nameof(Rounds), $"must be at least 1 (got {Rounds})");
        OptionCheck.Require(Warmup >= 0, nameof(Warmup), $"must not be negative (got {Warmup})");
        // Layers, DModel and Heads have the model's names; its own checks name them.
        OptionCheck.Nested("Model", () => Model(AttentionKind.Softmax).Validate());
    }
}

/// <summary>One timed decoder on one attention: milliseconds per generation (prompt + new tokens) and new tokens per second.</summary>
public sealed record GenerationBenchmarkRow(string Attention, string Decoder, double GenerationMs, double TokensPerSecond);

/// <summary>Every row, and the ratios of interest (null where the key/value cache is not available).</summary>
/// <param name="CacheSpeedup">Per attention: full-window time / cached time.</param>
/// <param name="EllipticalOverSoftmax">Per decoder: elliptical time / softmax time.</param>
public sealed record GenerationBenchmarkResult(int PromptTokens, int NewTokens, int Layers, int DModel, int Heads, int Vocab, int Threads,
    IReadOnlyList<GenerationBenchmarkRow> Rows, IReadOnlyDictionary<string, double> CacheSpeedup, IReadOnlyDictionary<string, double> EllipticalOverSoftmax);

/// <summary>
/// Decoding speed: greedy generation of <see cref="GenerationBenchmarkOptions.NewTokens"/> tokens after a random prompt, timed over
/// the decoder and the sampler (what generation costs apart from the tokenizer), for softmax and elliptical attention, with a full
/// forward over the window per token and with the key/value cache where available.
/// </summary>
public static class GenerationBenchmark
{
    /// <param name="device">Where the models decode (default: the CPU); they are initialised on the CPU and moved.</param>
    public static GenerationBenchmarkResult Measure(GenerationBenchmarkOptions options, Device? device = null)
    {
        BenchmarkAllocator.RetainFreedMemory();
        device ??= CPU;
        options.Validate();
        var models = new[] { AttentionKind.Softmax, AttentionKind.Elliptical }.Select(attention =>
        {
            torch.manual_seed(options.Seed);
            var model = new TransformerLm(options.Model(attention));
            model.to(device);
            model.eval();
            return (Attention: EnumNames.Cli(attention), Model: model);
        }).ToList();
        var random = new Random(options.Seed);
        var prompt = Enumerable.Range(0, options.PromptTokens).Select(_ => random.Next(options.Vocab)).ToArray();
        var best = new Dictionary<(string Attention, string Decoder), double>();
        try
        {
            // Interleaved rounds, best median kept: load drift on a shared machine moves whole medians, rarely all rounds.
            for (var round = 0; round < options.Rounds; round++)
                foreach (var (attention, model) in models)
                    foreach (var decoderName in TextGenerator.DecoderNames(model))
                    {
                        var ms = BenchmarkTimer.MedianMilliseconds(() =>
                        {
                            using var decoder = TextGenerator.CreateDecoder(model, decoderName);
                            Decode(decoder, prompt, options.NewTokens);
                        }, round == 0 ? options.Warmup : 0, options.Repeats, device);
                        best[(attention, decoderName)] = best.TryGetValue((attention, decoderName), out var previous) ? Math.Min(previous, ms) : ms;
                    }
        }
        finally
        {
            foreach (var (_, model) in models) model.Dispose();
        }
        var rows = best.Select(kv => new GenerationBenchmarkRow(kv.Key.Attention, kv.Key.Decoder, kv.Value, options.NewTokens / (kv.Value / 1000.0))).ToList();
        double Ms(string attention, string decoder) => rows.Single(r => r.Attention == attention && r.Decoder == decoder).GenerationMs;
        var speedup = rows.Where(r => r.Decoder == CachedDecoder.DecoderName).ToDictionary(r => r.Attention, r => Ms(r.Attention, FullWindowDecoder.DecoderName) / r.GenerationMs);
        var ratio = rows.Select(r => r.Decoder).Distinct().ToDictionary(d => d, d => Ms("elliptical", d) / Ms("softmax", d));
        return new GenerationBenchmarkResult(options.PromptTokens, options.NewTokens, options.Layers, options.DModel, options.Heads, options.Vocab,
            torch.get_num_threads(), rows, speedup, ratio);
    }

    private static void Decode(ITokenDecoder decoder, int[] prompt, int newTokens)
    {
        using var sampler = new TokenSampler(new SamplingOptions { Temperature = 0 }, 0);
        var next = -1;
        for (var step = 0; step < newTokens; step++)
        {
            using var scope = torch.NewDisposeScope();
            next = sampler.Sample(step == 0 ? decoder.Start(prompt) : decoder.Append(next)).Id;
        }
    }
}
