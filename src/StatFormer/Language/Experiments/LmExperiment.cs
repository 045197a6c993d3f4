using System.Diagnostics;
using StatFormer.Interop;
using StatFormer.IO;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Models;
using StatFormer.Options;
using StatFormer.Reporting;
using StatFormer.Training;
using TorchSharp;

namespace StatFormer.Language.Experiments;

/// <summary>
/// One language-model run end to end: build the model, train it (resumable), reload the best
/// weights, evaluate clean and attacked perplexity, and write summary.json and a learning-curve plot
/// next to the trainer's metrics.jsonl and checkpoint.bin.
/// </summary>
public static class LmExperiment
{
    public const string SummaryFileName = RunFolder.SummaryFileName;
    public const string LearningCurveFileName = "learning_curve.png";

    /// <summary>The model of <paramref name="options"/> for a vocabulary of <paramref name="vocabSize"/>, validated.</summary>
    /// <exception cref="ArgumentException">ParamName is the offending property's path (<c>Model.…</c>).</exception>
    public static LmConfig ModelConfig(LmRunOptions options, int vocabSize)
    {
        var config = options.Model with { VocabSize = vocabSize };
        OptionCheck.Nested(nameof(LmRunOptions.Model), config.Validate);
        return config;
    }

    /// <summary>The model of a run that starts from a GPT-2 checkpoint: its shape, with the run's attention, dropout and context.</summary>
    /// <exception cref="ArgumentException">ParamName is the offending property's path (<c>Model.…</c>).</exception>
    public static LmConfig HfConfig(HfGpt2Checkpoint checkpoint, LmRunOptions options)
    {
        LmConfig? config = null;
        OptionCheck.Nested(nameof(LmRunOptions.Model), () => config = checkpoint.ConfigFor(options.Model));
        return config!;
    }

    /// <summary>
    /// The trainer's options: <see cref="LmRunOptions.Train"/> with the warm-up capped at the run's length and a
    /// log interval that gives about 20 train records in short runs (at most one per 10 steps).
    /// </summary>
    public static TrainOptions TrainOptions(LmRunOptions options) => options.Train with
    {
        WarmupSteps = Math.Min(options.Train.WarmupSteps, options.Train.Steps),
        LogEvery = Math.Max(1, Math.Min(10, options.Train.Steps / 20)),
    };

    /// <param name="data">The dataset, when the caller already loaded it (a comparison loads it once).</param>
    /// <param name="sets">The evaluation streams, when the caller already built them (same attack draw for every model).</param>
    /// <param name="device">Where the model trains and evaluates (default: the CPU); it is initialised on the CPU first, so a seed gives the same initial weights everywhere.</param>
    public static (LmRunSummary Summary, TrainingResult Training) Run(LmRunOptions options, IProgress<TrainingProgress>? progress = null,
        LmDataset? data = null, EvaluationSets? sets = null, CancellationToken cancellationToken = default, torch.Device? device = null)
    {
        // First, before any loading: a second process on the same folder fails at once.
        options.Validate();
        var output = options.Output;
        using var folder = RunFolder.Claim(output.OutDir, RunFolderKind.Run, output.Resume, output.Overwrite);
        var clock = Stopwatch.StartNew();
        data ??= LmDataset.Load(options.Data);
        sets ??= EvaluationSets.Build(data, options);
        var seqLen = options.Model.SeqLen;
        var batchSize = options.Data.BatchSize;
        var seed = options.Train.Seed;
        OptionCheck.Require(data.Train.Length > seqLen + 1, $"{nameof(LmRunOptions.Model)}.{nameof(LmConfig.SeqLen)}",
            $"{seqLen} is longer than the training data ({data.Train.Length} tokens)");
        if (data.Valid.Length < 2 || data.Test.Length < 2)
            throw new InvalidDataException($"{options.Data.Description}: the validation or test split has fewer than 2 tokens");

        var hf = options.Init.HfCheckpoint is { } hfFolder ? HfGpt2Checkpoint.Open(hfFolder) : null;
        hf?.RequireVocabulary(data.Tokenizer.VocabSize);
        var config = hf is null ? ModelConfig(options, data.Tokenizer.VocabSize) : HfConfig(hf, options);
        torch.manual_seed(seed);
        using var model = new TransformerLm(config);
        // A resumed run replaces these weights with its checkpoint's.
        if (hf is not null) hf.LoadInto(model);
        else if (options.Init.InitFrom is { } initFrom) ModelWeights.Load(model, initFrom);
        device ??= torch.CPU;
        model.to(device);
        var metadata = new LmRunMetadata(config.ToJson(), data.Tokenizer.ToJson(), options.Data.Description, options.Data.DataSeed, RunEvaluationSettings.From(options));
        if (output.Resume) EnsureSameRun(output.OutDir, metadata);
        var trainer = new Trainer(model, TrainOptions(options),
            step => LmBatchSampler.Sample(data.Train, batchSize, seqLen, seed, step, device),
            () => PerplexityEvaluator.Evaluate(model, sets.ValidForTraining, seqLen, batchSize).MeanNll,
            output.OutDir, metadata.ToJson())
        { Diagnostics = new LmTrainingDiagnostics(model, sets.ValidForTraining) };
        var training = trainer.Run(progress, output.Resume, cancellationToken);

        // Report the weights that did best on validation (what early stopping selects).
        var best = Path.Combine(output.OutDir, Trainer.BestModelFileName);
        if (File.Exists(best)) model.load(best);
        var evaluation = LmEvaluation.Evaluate(model, sets, batchSize, options.Eval.Stride);

        var summary = new LmRunSummary
        {
            Variant = new ModelVariant(config.Stack.Attention, config.Stack.Moe.Router).Name, Moe = EnumNames.Cli(config.Stack.Moe.Router),
            Attention = EnumNames.Json(config.Stack.Attention), Estimator = config.Stack.Attention == Attention.AttentionKind.Elliptical ? EnumNames.Json(config.Stack.EstimatorFor(causal: true)) : "none",
            Data = data.Corpus.Name, Tokenizer = data.Tokenizer.Kind, VocabSize = data.Tokenizer.VocabSize,
            Params = model.ParameterCount, Steps = training.StepsCompleted, Seed = seed,
            ValidPpl = evaluation.ValidPpl, TestPpl = evaluation.TestPpl, TestBitsPerCharacter = evaluation.TestBitsPerCharacter, TestBitsPerByte = evaluation.TestBitsPerByte,
            AttackedTestPpl = evaluation.AttackedTestPpl, AttackEffectiveRate = evaluation.AttackEffectiveRate, ContextAttack = evaluation.ContextAttack,
            AttackMode = EnumNames.Json(options.Attack.Mode), AttackUnit = EnumNames.Json(options.Attack.Unit), TokensPerSecond = training.Throughput,
            FinalTrainLoss = training.FinalTrainLoss, BestValidLoss = training.BestValidLoss, BestStep = training.BestStep,
            StoppedEarly = training.StoppedEarly, EvalTokens = evaluation.EvalTokens,
            RepresentationCollapse = evaluation.RepresentationCollapse, EllipticalMetric = evaluation.EllipticalMetric, Routing = evaluation.Routing,
            WallSeconds = clock.Elapsed.TotalSeconds, Config = config, Options = options with { Model = config, Output = output.Recorded },
        };
        JsonOutput.WriteFile(Path.Combine(output.OutDir, SummaryFileName), summary);
        PlotLearningCurve(Path.Combine(output.OutDir, LearningCurveFileName), summary.VariantName, training.History);
        return (summary, training);
    }

    /// <summary>
    /// Refuses to resume (or reuse) a run folder whose checkpoint was written for another model or
    /// tokenizer: weights of the same shapes would otherwise load silently (softmax and elliptical
    /// models have identical parameters) and the result would be reported under the wrong name.
    /// </summary>
    public static void EnsureSameRun(string outDir, LmRunMetadata expected)
    {
        var path = Path.Combine(outDir, Trainer.CheckpointFileName);
        if (!File.Exists(path)) return;
        var saved = LmRunMetadata.Parse(Checkpoint.ReadMetadata(path), path);
        // Through LmConfig, so that a flat configuration of the previous build compares as the nested tree, with the
        // estimator resolved (the previous build wrote "causal" where the tree now leaves the LM's default, null).
        var differences = Checkpoint.MetadataDifferences(Resolved(saved.Config).ToJson(), Resolved(expected.Config).ToJson());
        if (saved.TokenizerJson != expected.TokenizerJson) differences.Add("tokenizer or vocabulary");
        if (differences.Count > 0)
            throw new RunFolderConflictException(RunFolderConflict.DifferentRun, $"{path} belongs to a different run ({string.Join(", ", differences)})");
    }

    private static LmConfig Resolved(LmConfig config) => config with { Stack = config.Stack with { Estimator = config.Stack.EstimatorFor(causal: true) } };

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
