using StatFormer.Models;

namespace StatFormer.Experiments;

/// <summary>The result of one language-model run, written as summary.json in its output folder.</summary>
public sealed record LmRunSummary
{
    public required string Attention { get; init; }
    public required string Estimator { get; init; }
    public required string Data { get; init; }
    public required string Tokenizer { get; init; }
    public required int VocabSize { get; init; }
    public required long Params { get; init; }
    public required long Steps { get; init; }
    public required int Seed { get; init; }
    public required double ValidPpl { get; init; }
    public required double TestPpl { get; init; }
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
    public required double WallSeconds { get; init; }
    public required LmConfig Config { get; init; }
}
