using System.CommandLine;
using System.Globalization;
using StatFormer.Attention;
using StatFormer.Language.Experiments;
using StatFormer.Language.Robustness;
using StatFormer.Moe;

namespace StatFormer.Cli;

/// <summary>The options shared by `lm train`, `compare` and `demo`, and their mapping to <see cref="LmRunOptions"/>.</summary>
public sealed class RunOptionSet
{
    private static readonly LmRunOptions Defaults = new();

    public Option<string> Data { get; } = new("--data") { Description = "A text file, a WikiText folder (wiki.{train,valid,test}.tokens) or 'synthetic' (embedded generator).", DefaultValueFactory = _ => Defaults.Data };
    public Option<string> Tokenizer { get; } = Choice("--tokenizer", "Tokenization.", Defaults.Tokenizer, "char", "word", "gpt2");
    public Option<int> MinCount { get; } = new("--min-count") { Description = "Word tokenizer: minimum count of a word to enter the vocabulary.", DefaultValueFactory = _ => Defaults.MinCount };
    public Option<int?> MaxVocab { get; } = new("--max-vocab") { Description = "Word tokenizer: cap on the vocabulary size (most frequent words kept)." };
    public Option<int> DataSeed { get; } = new("--data-seed") { Description = "Seed of the synthetic corpus generator.", DefaultValueFactory = _ => Defaults.DataSeed };
    public Option<string> Estimator { get; } = Choice("--estimator", "Elliptical metric estimator: causal (prefix mean, no look-ahead) or sequence (authors' whole-sequence mean; leaks future tokens).", "causal", "causal", "sequence");
    public Option<bool> Unscaled { get; } = new("--unscaled") { Description = "Drop 1/sqrt(D) in elliptical layers, as the authors' LM code does." };
    public Option<int> Experts { get; } = new("--experts") { Description = "MoE: experts per MoE layer.", DefaultValueFactory = _ => Defaults.Experts };
    public Option<int> TopK { get; } = new("--top-k") { Description = "MoE: experts per token (1 = Switch-style, 2 = default); gate weights are the softmax over the selected logits.", DefaultValueFactory = _ => Defaults.TopK };
    public Option<int> MoeEvery { get; } = new("--moe-every") { Description = "MoE: 1 = an MoE layer in every block (Switch), 2 = every other block with dense FFNs between (GLaM).", DefaultValueFactory = _ => Defaults.MoeEvery };
    public Option<double> BalanceWeight { get; } = new("--balance-weight") { Description = "MoE: weight of the Switch load-balancing loss added to the training loss (summed over MoE layers).", DefaultValueFactory = _ => Defaults.BalanceWeight };
    public Option<double> CapacityFactor { get; } = new("--capacity-factor") { Description = "MoE: expert capacity as a multiple of the mean load; assignments beyond it are dropped (the token keeps its residual). 0 = unlimited.", DefaultValueFactory = _ => Defaults.CapacityFactor };
    public Option<int> AcBaseLayers { get; } = new("--ac-base-layers") { Description = "AC routers: how many of the first MoE layers use the base router (the AC router needs a previous MoE layer's routing).", DefaultValueFactory = _ => Defaults.AcBaseLayers };
    public Option<bool> AcMixTopK { get; } = new("--ac-mix-topk") { Description = "AC routers: mix the previous top-k clusters' feature weights by their gate scores instead of using the top-1 cluster's." };
    public Option<string> AcEstimator { get; } = Choice("--ac-estimator", "AC routers: where the per-cluster spreads come from: running (statistics of past training batches, frozen at evaluation; causal) or batch (the authors' rule: the current batch's statistics; leaks future tokens, including the next evaluation window).", "running", "running", "batch");
    public Option<int> Layers { get; } = new("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => Defaults.Layers };
    public Option<int> DModel { get; } = new("--d-model") { Description = "Model width.", DefaultValueFactory = _ => Defaults.DModel };
    public Option<int> Heads { get; } = new("--heads") { Description = "Attention heads (must divide --d-model).", DefaultValueFactory = _ => Defaults.Heads };
    public Option<int> SeqLen { get; } = new("--seq-len") { Description = "Context length in tokens.", DefaultValueFactory = _ => Defaults.SeqLen };
    public Option<double> Dropout { get; } = new("--dropout") { Description = "Dropout probability.", DefaultValueFactory = _ => Defaults.Dropout };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Sequences per step.", DefaultValueFactory = _ => Defaults.BatchSize };
    public Option<int> Steps { get; } = new("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => Defaults.Steps };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "Peak learning rate (AdamW; linear warm-up then cosine decay to lr/10).", DefaultValueFactory = _ => Defaults.LearningRate };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "Warm-up steps.", DefaultValueFactory = _ => Defaults.WarmupSteps };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "AdamW weight decay (matrices only).", DefaultValueFactory = _ => Defaults.WeightDecay };
    public Option<double> GradClip { get; } = new("--grad-clip") { Description = "Max global gradient norm (0: off).", DefaultValueFactory = _ => Defaults.GradClip };
    public Option<int> EvalEvery { get; } = new("--eval-every") { Description = "Validate every N steps.", DefaultValueFactory = _ => Defaults.EvalEvery };
    public Option<int?> Patience { get; } = new("--patience") { Description = "Early stopping: evaluations without improvement before stopping (default: off)." };
    public Option<int> ValidTokens { get; } = new("--valid-tokens") { Description = "Validation tokens used during training (0: all).", DefaultValueFactory = _ => Defaults.ValidTokens };
    public Option<int> EvalTokens { get; } = new("--eval-tokens") { Description = "Valid/test tokens used by the final evaluation (0: all).", DefaultValueFactory = _ => Defaults.EvalTokens };
    public Option<int?> Stride { get; } = new("--stride") { Description = "Sliding-window evaluation stride (default: non-overlapping windows)." };
    public Option<string> AttackRates { get; } = new("--attack-rates") { Description = "Comma-separated word-swap rates applied to the test text.", DefaultValueFactory = _ => string.Join(",", Defaults.AttackRates.Select(r => r.ToString(CultureInfo.InvariantCulture))) };
    public Option<string> AttackMode { get; } = Choice("--attack-mode", "oov: replace by the out-of-vocabulary token AAA (paper protocol); random: by a random training word.", "oov", "oov", "random");
    public Option<string> AttackUnit { get; } = Choice("--attack-unit", "Count swaps per line (paper protocol) or per blank-line separated paragraph (for texts of very short lines, where one swap per line dominates every rate).", "line", "line", "paragraph");
    public Option<int> AttackSeed { get; } = new("--attack-seed") { Description = "Seed of the word-swap draw (shared by every model).", DefaultValueFactory = _ => Defaults.AttackSeed };
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue from the checkpoint in --out (finished runs are reused)." };
    public Option<bool> Overwrite { get; } = new("--overwrite") { Description = "Replace the run already in --out: its files are deleted first. Without --resume or --overwrite, an --out that holds a run is refused." };
    public Option<bool> Json { get; } = new("--json") { Description = "Print the result as JSON on stdout instead of a table." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Data, Tokenizer, MinCount, MaxVocab, DataSeed, Estimator, Unscaled,
                     Experts, TopK, MoeEvery, BalanceWeight, CapacityFactor, AcBaseLayers, AcMixTopK, AcEstimator, Layers, DModel, Heads, SeqLen, Dropout,
                     BatchSize, Steps, LearningRate, Warmup, WeightDecay, GradClip, EvalEvery, Patience, ValidTokens, EvalTokens, Stride,
                     AttackRates, AttackMode, AttackUnit, AttackSeed, Resume, Overwrite, Json })
            command.Options.Add(option);
    }

    /// <summary>Builds run options from the command line; <paramref name="baseline"/> supplies the values of options the user did not give.</summary>
    public LmRunOptions Read(ParseResult result, LmRunOptions? baseline = null)
    {
        var b = baseline ?? Defaults;
        T Get<T>(Option<T> option, T fallback) => result.GetResult(option) is { Implicit: false } ? result.GetValue(option)! : fallback;
        T? GetNullable<T>(Option<T?> option, T? fallback) where T : struct => result.GetResult(option) is { Implicit: false } ? result.GetValue(option) : fallback;
        var options = b with
        {
            Data = Get(Data, b.Data), Tokenizer = Get(Tokenizer, b.Tokenizer), MinCount = Get(MinCount, b.MinCount),
            MaxVocab = GetNullable(MaxVocab, b.MaxVocab), DataSeed = Get(DataSeed, b.DataSeed),
            Estimator = result.GetResult(Estimator) is { Implicit: false } ? ParseEstimator(result.GetValue(Estimator)!) : b.Estimator, EllipticalUnscaled = Get(Unscaled, b.EllipticalUnscaled),
            Experts = Get(Experts, b.Experts), TopK = Get(TopK, b.TopK), MoeEvery = Get(MoeEvery, b.MoeEvery), BalanceWeight = Get(BalanceWeight, b.BalanceWeight),
            CapacityFactor = Get(CapacityFactor, b.CapacityFactor), AcBaseLayers = Get(AcBaseLayers, b.AcBaseLayers), AcMixTopK = Get(AcMixTopK, b.AcMixTopK),
            AcEstimator = result.GetResult(AcEstimator) is { Implicit: false } ? (result.GetValue(AcEstimator) == "batch" ? StatFormer.Moe.AcEstimator.Batch : StatFormer.Moe.AcEstimator.Running) : b.AcEstimator,
            Layers = Get(Layers, b.Layers), DModel = Get(DModel, b.DModel), Heads = Get(Heads, b.Heads), SeqLen = Get(SeqLen, b.SeqLen),
            Dropout = Get(Dropout, b.Dropout), BatchSize = Get(BatchSize, b.BatchSize), Steps = Get(Steps, b.Steps),
            LearningRate = Get(LearningRate, b.LearningRate), WarmupSteps = Get(Warmup, b.WarmupSteps), WeightDecay = Get(WeightDecay, b.WeightDecay),
            GradClip = Get(GradClip, b.GradClip), EvalEvery = Get(EvalEvery, b.EvalEvery), Patience = GetNullable(Patience, b.Patience),
            ValidTokens = Get(ValidTokens, b.ValidTokens), EvalTokens = Get(EvalTokens, b.EvalTokens), Stride = GetNullable(Stride, b.Stride),
            AttackRates = result.GetResult(AttackRates) is { Implicit: false } ? ParseRates(result.GetValue(AttackRates)!) : b.AttackRates,
            AttackMode = result.GetResult(AttackMode) is { Implicit: false } ? ParseAttackMode(result.GetValue(AttackMode)!) : b.AttackMode,
            AttackUnit = result.GetResult(AttackUnit) is { Implicit: false } ? (result.GetValue(AttackUnit) == "paragraph" ? WordSwapUnit.Paragraph : WordSwapUnit.Line) : b.AttackUnit,
            AttackSeed = Get(AttackSeed, b.AttackSeed), Resume = Get(Resume, b.Resume), Overwrite = Get(Overwrite, b.Overwrite),
        };
        Check(options);
        return options;
    }

    public static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description + $" One of: {string.Join(", ", values)}.", DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    public static AttentionKind ParseAttention(string value) => value switch
    {
        "softmax" => AttentionKind.Softmax,
        "elliptical" => AttentionKind.Elliptical,
        _ => throw new UserInputException($"--attention '{value}' is not one of: softmax, elliptical"),
    };

    private static EllipticalEstimator ParseEstimator(string value) => value == "sequence" ? EllipticalEstimator.Sequence : EllipticalEstimator.Causal;

    private static WordSwapMode ParseAttackMode(string value) => value == "random" ? WordSwapMode.RandomSubstitution : WordSwapMode.OutOfVocabulary;

    public static IReadOnlyList<double> ParseRates(string text)
    {
        var rates = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || rate is < 0 or > 1 || double.IsNaN(rate))
                throw new UserInputException($"--attack-rates: '{part}' is not a rate between 0 and 1");
            rates.Add(rate);
        }
        return rates;
    }

    private static void Check(LmRunOptions o)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new UserInputException(message);
        }
        Require(o.Layers >= 1, $"--layers must be at least 1 (got {o.Layers})");
        Require(o.DModel >= 1 && o.Heads >= 1 && o.DModel % o.Heads == 0, $"--d-model ({o.DModel}) must be a positive multiple of --heads ({o.Heads})");
        Require(o.SeqLen >= 2, $"--seq-len must be at least 2 (got {o.SeqLen})");
        Require(o.BatchSize >= 1, $"--batch-size must be at least 1 (got {o.BatchSize})");
        Require(o.Steps >= 1, $"--steps must be at least 1 (got {o.Steps})");
        Require(o.LearningRate > 0, $"--lr must be positive (got {o.LearningRate})");
        Require(o.Dropout is >= 0 and < 1, $"--dropout must be in [0, 1) (got {o.Dropout})");
        Require(o.WarmupSteps >= 0, $"--warmup must not be negative (got {o.WarmupSteps})");
        Require(o.MinCount >= 1, $"--min-count must be at least 1 (got {o.MinCount})");
        Require(o.MaxVocab is null or >= 2, $"--max-vocab must be at least 2 (got {o.MaxVocab})");
        // One token scores no prediction: refuse it now rather than after training.
        Require(o.EvalTokens is 0 or >= 2, $"--eval-tokens must be 0 (all) or at least 2 (got {o.EvalTokens})");
        Require(o.ValidTokens is 0 or >= 2, $"--valid-tokens must be 0 (all) or at least 2 (got {o.ValidTokens})");
        Require(o.Stride is null || (o.Stride >= 1 && o.Stride <= o.SeqLen), $"--stride must be between 1 and --seq-len ({o.SeqLen})");
        Require(o.Patience is null or >= 1, $"--patience must be at least 1 (got {o.Patience})");
        Require(o.Experts >= 1, $"--experts must be at least 1 (got {o.Experts})");
        Require(o.TopK >= 1 && o.TopK <= o.Experts, $"--top-k ({o.TopK}) must be between 1 and --experts ({o.Experts})");
        Require(o.MoeEvery is 1 or 2, $"--moe-every must be 1 (every block) or 2 (every other block) (got {o.MoeEvery})");
        Require(o.BalanceWeight >= 0 && double.IsFinite(o.BalanceWeight), $"--balance-weight must be a finite number ≥ 0 (got {o.BalanceWeight})");
        Require(o.CapacityFactor >= 0 && double.IsFinite(o.CapacityFactor), $"--capacity-factor must be 0 (unlimited) or positive (got {o.CapacityFactor})");
        Require(o.AcBaseLayers >= 1, $"--ac-base-layers must be at least 1 (got {o.AcBaseLayers}): the first MoE layer has no previous MoE layer to cluster on");
    }
}
