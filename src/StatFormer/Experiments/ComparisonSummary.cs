namespace StatFormer.Experiments;

/// <summary>Mean and sample standard deviation of one metric over seeds.</summary>
public sealed record MeanStd(double Mean, double Std, int N);

/// <summary>One attention variant's results aggregated over seeds.</summary>
public sealed record VariantAggregate(
    string Attention,
    long Params,
    MeanStd ValidPpl,
    MeanStd TestPpl,
    IReadOnlyDictionary<string, MeanStd> AttackedTestPpl,
    MeanStd TokensPerSecond,
    IReadOnlyList<double> RepresentationCollapse,
    IReadOnlyDictionary<string, MeanStd> ContextAttackRatio);

/// <summary>What `statformer compare` writes to summary.json and prints with --json.</summary>
public sealed record ComparisonSummary(
    string Data,
    string Tokenizer,
    int VocabSize,
    IReadOnlyList<int> Seeds,
    IReadOnlyList<double> AttackRates,
    IReadOnlyDictionary<string, double> AttackEffectiveRate,
    string AttackMode,
    long EvalTokens,
    IReadOnlyList<VariantAggregate> Variants,
    IReadOnlyList<LmRunSummary> Runs,
    string Report,
    IReadOnlyList<string> Plots);
