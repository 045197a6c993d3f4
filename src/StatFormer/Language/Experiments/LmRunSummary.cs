using StatFormer.Analysis;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Models;

namespace StatFormer.Language.Experiments;

/// <summary>The result of one language-model run, written as summary.json in its output folder.</summary>
public sealed record LmRunSummary
{
    /// <summary>The model variant's name ("softmax", "ac-smoe", "elliptical+xmoe", …); the comparison groups runs by it.</summary>
    public string Variant { get; init; } = "";
    public required string Attention { get; init; }
    /// <summary>The MoE router ("none" for dense feed-forward layers).</summary>
    public string Moe { get; init; } = "none";
    public required string Estimator { get; init; }
    public required string Data { get; init; }
    public required string Tokenizer { get; init; }
    public required int VocabSize { get; init; }
    public required long Params { get; init; }
    public required long Steps { get; init; }
    public required int Seed { get; init; }
    public required double ValidPpl { get; init; }
    public required double TestPpl { get; init; }
    /// <summary>Test NLL in bits per character of the text the targets cover (char and GPT-2 tokenizers; null for words).</summary>
    public double? TestBitsPerCharacter { get; init; }
    /// <summary>Test NLL in bits per UTF-8 byte (GPT-2 BPE only).</summary>
    public double? TestBitsPerByte { get; init; }
    /// <summary>Test perplexity after the word-swap attack, keyed by the nominal rate ("0.015").</summary>
    public required IReadOnlyDictionary<string, double> AttackedTestPpl { get; init; }
    /// <summary>Fraction of all test words actually swapped at each nominal rate (≥ the rate: every non-empty line gets at least one swap).</summary>
    public required IReadOnlyDictionary<string, double> AttackEffectiveRate { get; init; }
    public required string AttackMode { get; init; }
    public string AttackUnit { get; init; } = "line";
    /// <summary>Word-aligned streams only: perplexity at uncorrupted targets with attacked vs clean context, keyed by rate.</summary>
    public IReadOnlyDictionary<string, ContextAttackPpl> ContextAttack { get; init; } = new Dictionary<string, ContextAttackPpl>();
    public required double TokensPerSecond { get; init; }
    public required double FinalTrainLoss { get; init; }
    public double? BestValidLoss { get; init; }
    public long? BestStep { get; init; }
    public required bool StoppedEarly { get; init; }
    public required long EvalTokens { get; init; }
    /// <summary>Mean pairwise cosine similarity of token representations after each block (higher = more collapsed).</summary>
    public required IReadOnlyList<double> RepresentationCollapse { get; init; }
    /// <summary>Per elliptical layer, the mean metric m over test windows, flattened head-major (h·D + d); empty for softmax models.</summary>
    public required IReadOnlyDictionary<string, double[]> EllipticalMetric { get; init; }
    /// <summary>MoE models: routing diagnostics on the test windows (load, entropy, dispersion, stability, topic agreement); null for dense models.</summary>
    public MoeDiagnostics? Routing { get; init; }
    public required double WallSeconds { get; init; }
    public required LmConfig Config { get; init; }
    /// <summary>The resolved options the run was started with (its model with the vocabulary size filled in); null in summaries of older builds.</summary>
    public LmRunOptions? Options { get; init; }

    /// <summary>The variant name; summaries written before MoE existed have none and are named by their attention.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string VariantName => string.IsNullOrEmpty(Variant) ? Attention : Variant;
}
