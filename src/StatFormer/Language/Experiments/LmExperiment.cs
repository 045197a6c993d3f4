using System.Diagnostics;
using StatFormer.Analysis;
using StatFormer.Attention;
using StatFormer.IO;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Reporting;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;

namespace StatFormer.Language.Experiments;

/// <summary>
/// One language-model run end to end: build the model, train it (resumable), reload the best
/// weights, evaluate clean and attacked perplexity, and write summary.json and a learning-curve plot
/// next to the trainer's metrics.jsonl and checkpoint.bin.
/// </summary>
public static class LmExperiment
{
    public const string SummaryFileName = "summary.json";
    public const string LearningCurveFileName = "learning_curve.png";

    public static LmConfig ModelConfig(LmRunOptions options, int vocabSize)
    {
        var config = new LmConfig
        {
            VocabSize = vocabSize, SeqLen = options.SeqLen,
            Stack = new TransformerStackOptions
            {
                Layers = options.Layers, DModel = options.DModel, Heads = options.Heads, Dropout = options.Dropout, Attention = options.Attention,
                Estimator = options.Estimator, EllipticalUnscaled = options.EllipticalUnscaled,
                Moe = new MoeLayout
                {
                    Router = options.Moe, Every = options.MoeEvery, BalanceWeight = options.BalanceWeight, AcBaseLayers = options.AcBaseLayers,
                    Layer = new MoeOptions
                    {
                        Experts = options.Experts, TopK = options.TopK, CapacityFactor = options.CapacityFactor,
                        AcMixTopK = options.AcMixTopK, AcEstimator = options.AcEstimator,
                    },
                },
            },
        };
        // Throws ArgumentException naming the property path (e.g. Stack.Moe.AcBaseLayers).
        config.Validate();
        return config;
    }

    public static TrainOptions TrainOptions(LmRunOptions options) => new()
    {
        Steps = options.Steps, BatchSize = options.BatchSize, SeqLen = options.SeqLen,
        LearningRate = options.LearningRate, MinLearningRate = options.LearningRate / 10,
        WarmupSteps = Math.Min(options.WarmupSteps, options.Steps), WeightDecay = options.WeightDecay,
        GradClip = options.GradClip, EvalEvery = options.EvalEvery, EarlyStoppingPatience = options.Patience,
        Seed = options.Seed, LogEvery = Math.Max(1, Math.Min(10, options.Steps / 20)),
    };

    /// <param name="data">The dataset, when the caller already loaded it (a comparison loads it once).</param>
    /// <param name="sets">The evaluation streams, when the caller already built them (same attack draw for every model).</param>
    public static (LmRunSummary Summary, TrainingResult Training) Run(LmRunOptions options, IProgress<TrainingProgress>? progress = null,
        LmDataset? data = null, EvaluationSets? sets = null, CancellationToken cancellationToken = default)
    {
        // First, before any loading: a second process on the same folder fails at once.
        using var folder = RunFolder.Claim(options.OutDir, RunFolderKind.Run, options.Resume, options.Overwrite);
        var clock = Stopwatch.StartNew();
        data ??= LmDataset.Load(options.Data, options.Tokenizer, options.MinCount, options.MaxVocab, options.DataSeed);
        sets ??= EvaluationSets.Build(data, options);
        if (data.Train.Length <= options.SeqLen + 1)
            throw new UserInputException($"--seq-len {options.SeqLen} is longer than the training data ({data.Train.Length} tokens)");
        if (data.Valid.Length < 2 || data.Test.Length < 2)
            throw new UserInputException($"{options.Data}: the validation or test split has fewer than 2 tokens");

        var config = ModelConfig(options, data.Tokenizer.VocabSize);
        torch.manual_seed(options.Seed);
        using var model = new TransformerLm(config);
        var metadata = new RunMetadata(config.ToJson(), data.Tokenizer.ToJson(), options.Data, options.DataSeed, RunEvaluationSettings.From(options));
        if (options.Resume) EnsureSameRun(options.OutDir, metadata);
        var trainOptions = TrainOptions(options);
        var trainer = new Trainer(model, trainOptions,
            step => LmBatchSampler.Sample(data.Train, options.BatchSize, options.SeqLen, options.Seed, step),
            () => PerplexityEvaluator.Evaluate(model, sets.ValidForTraining, options.SeqLen, options.BatchSize).MeanNll,
            options.OutDir, metadata.ToJson());
        var training = trainer.Run(progress, options.Resume, cancellationToken);

        // Report the weights that did best on validation (what early stopping selects).
        var best = Path.Combine(options.OutDir, Trainer.BestModelFileName);
        if (File.Exists(best)) model.load(best);
        var evaluation = LmEvaluation.Evaluate(model, sets, options.BatchSize, options.Stride);

        var summary = new LmRunSummary
        {
            Variant = new ModelVariant(config.Stack.Attention, config.Stack.Moe.Router).Name, Moe = MoeKindNames.ToCli(config.Stack.Moe.Router),
            Attention = Name(config.Stack.Attention), Estimator = config.Stack.Attention == Attention.AttentionKind.Elliptical ? Name(config.Stack.EstimatorFor(causal: true)) : "none",
            Data = data.Corpus.Name, Tokenizer = data.Tokenizer.Kind, VocabSize = data.Tokenizer.VocabSize,
            Params = model.ParameterCount, Steps = training.StepsCompleted, Seed = options.Seed,
            ValidPpl = evaluation.ValidPpl, TestPpl = evaluation.TestPpl,
            AttackedTestPpl = evaluation.AttackedTestPpl, AttackEffectiveRate = evaluation.AttackEffectiveRate, ContextAttack = evaluation.ContextAttack,
            AttackMode = Name(options.AttackMode), AttackUnit = Name(options.AttackUnit), TokensPerSecond = TokensPerSecond(training),
            FinalTrainLoss = training.FinalTrainLoss, BestValidLoss = training.BestValidLoss, BestStep = training.BestStep,
            StoppedEarly = training.StoppedEarly, EvalTokens = evaluation.EvalTokens,
            RepresentationCollapse = evaluation.RepresentationCollapse, EllipticalMetric = evaluation.EllipticalMetric, Routing = evaluation.Routing,
            WallSeconds = clock.Elapsed.TotalSeconds, Config = config,
        };
        JsonOutput.WriteFile(Path.Combine(options.OutDir, SummaryFileName), summary);
        PlotLearningCurve(Path.Combine(options.OutDir, LearningCurveFileName), summary.VariantName, training.History);
        return (summary, training);
    }

    /// <summary>
    /// The session's throughput; when the session trained nothing (resuming a finished run), the mean
    /// of the throughput the metrics log recorded, rather than 0.
    /// </summary>
    private static double TokensPerSecond(TrainingResult training)
    {
        if (training.TokensPerSecond > 0) return training.TokensPerSecond;
        var recorded = training.History.Where(r => r.Split == MetricRecord.TrainSplit && r.TokensPerSecond > 0).Select(r => r.TokensPerSecond).ToList();
        return recorded.Count > 0 ? recorded.Average() : 0;
    }

    /// <summary>
    /// Refuses to resume (or reuse) a run folder whose checkpoint was written for another model or
    /// tokenizer: weights of the same shapes would otherwise load silently (softmax and elliptical
    /// models have identical parameters) and the result would be reported under the wrong name.
    /// </summary>
    public static void EnsureSameRun(string outDir, RunMetadata expected)
    {
        var path = Path.Combine(outDir, Trainer.CheckpointFileName);
        if (!File.Exists(path)) return;
        var saved = RunMetadata.Parse(Checkpoint.ReadMetadata(path), path);
        // Read through LmConfig so that a flat configuration of the previous build compares as the nested tree.
        var differences = JsonDifferences(LmConfig.FromJson(saved.ModelConfig).ToJson(), expected.ModelConfig);
        if (saved.TokenizerJson != expected.TokenizerJson) differences.Add("tokenizer or vocabulary");
        if (differences.Count > 0)
            throw new UserInputException(
                $"--resume: {path} belongs to a different run ({string.Join(", ", differences)}); use another --out, or pass --overwrite instead of --resume to replace it");
    }

    private static List<string> JsonDifferences(string savedJson, string expectedJson)
    {
        using var saved = System.Text.Json.JsonDocument.Parse(savedJson);
        using var expected = System.Text.Json.JsonDocument.Parse(expectedJson);
        var before = Leaves(saved.RootElement, "");
        var after = Leaves(expected.RootElement, "");
        return before.Keys.Union(after.Keys)
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"{k}: {before.GetValueOrDefault(k) ?? "-"} in the checkpoint, {after.GetValueOrDefault(k) ?? "-"} now")
            .ToList();
    }

    /// <summary>Every leaf of a JSON object by its dotted path (stack.moe.layer.top_k), as raw JSON text.</summary>
    private static Dictionary<string, string> Leaves(System.Text.Json.JsonElement element, string prefix)
    {
        var leaves = new Dictionary<string, string>();
        foreach (var p in element.EnumerateObject())
        {
            var path = prefix + p.Name;
            if (p.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
                foreach (var (k, v) in Leaves(p.Value, path + ".")) leaves[k] = v;
            else leaves[path] = p.Value.GetRawText();
        }
        return leaves;
    }

    internal static string Name<T>(T value) where T : struct, Enum =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static void PlotLearningCurve(string path, string label, IReadOnlyList<MetricRecord> history)
    {
        var series = new List<Series>();
        foreach (var split in new[] { "train", "valid" })
        {
            var points = history.Where(r => r.Split == split).ToList();
            if (points.Count > 0)
                series.Add(new Series($"{label} {split}", points.Select(p => (double)p.Step).ToList(), points.Select(p => p.Loss).ToList()));
        }
        if (series.Count > 0)
            Plots.LineChart(path, $"Learning curve ({label})", "step", "cross-entropy (nats/token)", series);
    }
}
