using System.Diagnostics;
using System.Text;
using StatFormer.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Training;

/// <summary>
/// Trains a model with AdamW, warm-up + cosine learning rate, gradient clipping, periodic validation
/// with early stopping, and checkpoints from which a resumed run continues bit-identically. Writes
/// metrics.jsonl, checkpoint.bin, best_model.bin and TensorBoard event files (<see cref="TensorBoardLog"/>: loss,
/// learning rate, auxiliary loss, gradient norm, validation loss, and the <see cref="Diagnostics"/>' extras) into the
/// output folder. Language models use the
/// (ids → logits) constructor; any other objective (contrastive learning) supplies its step loss.
/// </summary>
public sealed class Trainer
{
    public const string CheckpointFileName = "checkpoint.bin";
    public const string BestModelFileName = "best_model.bin";
    public const string MetricsFileName = "metrics.jsonl";

    private readonly nn.Module _model;
    private readonly TrainOptions _options;
    private readonly Func<long, StepLoss> _stepLoss;
    private readonly Func<double>? _validationLoss;
    private readonly string _outDir;
    private readonly string _checkpointMetadataJson;

    /// <param name="model">Maps token ids [B,T] to logits [B,T,V].</param>
    /// <param name="trainBatch">
    /// Batch for the update with the given 0-based index; must be deterministic in it, or resumed
    /// runs diverge. Tensors it creates are disposed after the step.
    /// </param>
    /// <param name="validationLoss">Mean validation loss of the model as it is now; puts the model in eval mode itself if it wants to. Null: no validation.</param>
    /// <param name="checkpointMetadataJson">Stored verbatim in every checkpoint (see <see cref="Checkpoint.ReadMetadata"/>).</param>
    public Trainer(nn.Module<Tensor, Tensor> model, TrainOptions options, Func<long, (Tensor Inputs, Tensor Targets)> trainBatch,
        Func<double>? validationLoss, string outDir, string checkpointMetadataJson)
        : this(model, options, LanguageModelLoss(model, trainBatch), validationLoss, outDir, checkpointMetadataJson)
    {
    }

    /// <param name="model">Every parameter of it is optimised, checkpointed and saved as the best model.</param>
    /// <param name="stepLoss">
    /// The loss of the update with the given 0-based index, computed with the model in train mode; must be
    /// deterministic in the index (and the torch RNG state), or resumed runs diverge. Tensors it creates are
    /// disposed after the step.
    /// </param>
    public Trainer(nn.Module model, TrainOptions options, Func<long, StepLoss> stepLoss,
        Func<double>? validationLoss, string outDir, string checkpointMetadataJson)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stepLoss);
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        ArgumentNullException.ThrowIfNull(checkpointMetadataJson);
        options.Validate();
        _model = model;
        _options = options;
        _stepLoss = stepLoss;
        _validationLoss = validationLoss;
        _outDir = outDir;
        _checkpointMetadataJson = checkpointMetadataJson;
    }

    /// <summary>Domain extras written to the TensorBoard log after each validation (every EvalEvery steps and at the last, with or without a validation loss); null: none.</summary>
    public ITrainingDiagnostics? Diagnostics { get; init; }

    /// <summary>
    /// Trains up to <see cref="TrainOptions.Steps"/>. With <paramref name="resume"/>, continues from
    /// outDir/checkpoint.bin when it exists. On cancellation a checkpoint of the completed steps is
    /// written and <see cref="OperationCanceledException"/> is thrown; resuming from it reproduces
    /// the uninterrupted run exactly.
    /// </summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, bool resume = false, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(_outDir);
        var checkpointPath = System.IO.Path.Combine(_outDir, CheckpointFileName);
        var metrics = new MetricsLog(System.IO.Path.Combine(_outDir, MetricsFileName));
        var parameters = _model.parameters().ToList();
        using var optimizer = CreateOptimizer(_model, _options);

        var state = new RunState();
        List<MetricRecord> history;
        torch.manual_seed(_options.Seed);
        if (resume && File.Exists(checkpointPath))
        {
            var saved = Checkpoint.Load(checkpointPath, _model, optimizer);
            state.Restore(saved);
            using (var rng = torch.tensor(saved.RngState, dtype: ScalarType.Byte, device: CPU))
                torch.set_rng_state(rng);
            history = metrics.TruncateAfter(saved.Step);
            // The event log is cut at the checkpoint too; this session's new file continues the same curves.
            TensorBoardRecords.TruncateAfter(_outDir, saved.Step);
        }
        else
        {
            metrics.Clear();
            TensorBoardRecords.DeleteAll(_outDir);
            history = [];
        }
        var board = new TensorBoardLog(_outDir);

        _model.train();
        var total = _options.Steps;
        var sessionStartStep = state.Step;
        var sessionClock = Stopwatch.StartNew();
        long sessionTokens = 0, windowTokens = 0;
        double sessionStepSeconds = 0, windowStepSeconds = 0;
        var stoppedEarly = PatienceExhausted(state);

        TimeSpan Elapsed() => state.PriorTime + sessionClock.Elapsed;

        void SaveCheckpoint() => Checkpoint.Save(checkpointPath, state.ToContents(_checkpointMetadataJson, Elapsed()), _model, optimizer);

        void Record(MetricRecord record)
        {
            metrics.Append(record);
            history.Add(record);
        }

        while (!stoppedEarly && state.Step < total)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                SaveCheckpoint();
                cancellationToken.ThrowIfCancellationRequested();
            }

            var lr = LearningRateSchedule.At(state.Step, _options);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;

            var stepStart = Stopwatch.GetTimestamp();
            // The norm is free when clipping computes it; without clipping it is measured on logged steps only.
            var measureNorm = (state.Step + 1) % _options.LogEvery == 0 || state.Step + 1 == total;
            var (loss, auxLoss, tokens, gradNorm) = TrainStep(state.Step, optimizer, parameters, measureNorm);
            var stepSeconds = Stopwatch.GetElapsedTime(stepStart).TotalSeconds;
            state.Step++;
            if (!double.IsFinite(loss) || (auxLoss is { } a && !double.IsFinite(a)))
                throw new NotFiniteNumberException($"training diverged at step {state.Step} (loss {loss}); lower the learning rate or raise the warm-up", loss);

            state.LastTrainLoss = loss;
            state.WindowLossSum += loss;
            state.WindowAuxLossSum += auxLoss ?? 0;
            state.WindowSteps++;
            sessionTokens += tokens;
            windowTokens += tokens;
            sessionStepSeconds += stepSeconds;
            windowStepSeconds += stepSeconds;

            var step = state.Step;
            var isLast = step == total;
            var logDue = step % _options.LogEvery == 0 || isLast;
            var evalDue = (_options.EvalEvery > 0 && step % _options.EvalEvery == 0) || isLast;
            var reportLoss = state.WindowLossSum / state.WindowSteps;
            var windowTokensPerSecond = windowStepSeconds > 0 ? windowTokens / windowStepSeconds : 0;

            if (logDue)
            {
                double? reportAux = auxLoss.HasValue ? state.WindowAuxLossSum / state.WindowSteps : null;
                Record(new MetricRecord(step, MetricRecord.TrainSplit, reportLoss, lr, windowTokensPerSecond, Elapsed().TotalSeconds, reportAux));
                board.Scalar("train/loss", reportLoss, step);
                board.Scalar("train/learning_rate", lr, step);
                if (reportAux is { } aux) board.Scalar("train/aux_loss", aux, step);
                if (gradNorm is { } norm) board.Scalar("train/grad_norm", norm, step);
                board.Scalar("train/items_per_second", windowTokensPerSecond, step);
                state.WindowLossSum = 0;
                state.WindowAuxLossSum = 0;
                state.WindowSteps = 0;
                windowTokens = 0;
                windowStepSeconds = 0;
            }

            double? validLoss = null;
            if (evalDue && _validationLoss is not null)
            {
                var v = Evaluate();
                validLoss = v;
                Record(new MetricRecord(step, MetricRecord.ValidSplit, v, lr, 0, Elapsed().TotalSeconds));
                board.Scalar("valid/loss", v, step);
                if (state.BestValidLoss is not { } best || v < best)
                {
                    state.BestValidLoss = v;
                    state.BestStep = step;
                    state.EvaluationsWithoutImprovement = 0;
                    SaveBestModel();
                }
                else
                {
                    state.EvaluationsWithoutImprovement++;
                }
                stoppedEarly = PatienceExhausted(state);
            }

            // After each validation, and at the same steps in a run without one.
            if (evalDue && Diagnostics is not null) WriteDiagnostics(step, board);

            if (evalDue || stoppedEarly || (_options.CheckpointEvery > 0 && step % _options.CheckpointEvery == 0))
                SaveCheckpoint();

            if (progress is not null && (logDue || validLoss.HasValue))
            {
                var sessionSteps = step - sessionStartStep;
                var eta = TimeSpan.FromSeconds(sessionClock.Elapsed.TotalSeconds / sessionSteps * (total - step));
                progress.Report(new TrainingProgress(step, total, reportLoss, lr, windowTokensPerSecond, Elapsed(), eta, validLoss));
            }
        }

        return new TrainingResult(state.Step, state.LastTrainLoss, state.BestValidLoss, state.BestStep, stoppedEarly,
            sessionStepSeconds > 0 ? sessionTokens / sessionStepSeconds : 0, history);
    }

    /// <summary>
    /// The language-model objective: cross-entropy of the next token, plus the model's auxiliary loss
    /// (MoE load balancing) when it has one; items are target tokens.
    /// </summary>
    private static Func<long, StepLoss> LanguageModelLoss(nn.Module<Tensor, Tensor> model, Func<long, (Tensor Inputs, Tensor Targets)> trainBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainBatch);
        return step =>
        {
            var (inputs, targets) = trainBatch(step);
            var (logits, aux) = model is IAuxiliaryLossModel withAux ? withAux.Run(inputs) : (model.call(inputs), null);
            var vocab = logits.shape[^1];
            var loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1));
            return new StepLoss(loss, aux, targets.numel());
        };
    }

    /// <returns>The main loss, the weighted auxiliary loss that was added to it (null if none), the items consumed and the global gradient norm before clipping (null when neither clipped nor asked for).</returns>
    private (double Loss, double? AuxLoss, long Tokens, double? GradNorm) TrainStep(long stepIndex, AdamW optimizer, List<Parameter> parameters, bool measureNorm)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var step = _stepLoss(stepIndex);
        (step.AuxiliaryLoss is null ? step.Loss : step.Loss + step.AuxiliaryLoss).backward();
        double? gradNorm = null;
        if (_options.GradClip > 0)
            gradNorm = nn.utils.clip_grad_norm_(parameters, _options.GradClip);
        else if (measureNorm)
            gradNorm = Math.Sqrt(parameters.Where(p => p.grad is not null).Sum(p => p.grad!.to(ScalarType.Float64).pow(2).sum().item<double>()));
        optimizer.step();
        return (step.Loss.item<float>(), step.AuxiliaryLoss?.item<float>(), step.Items, gradNorm);
    }

    private void WriteDiagnostics(long step, TensorBoardLog board)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            _model.eval();
            Diagnostics!.Write(step, board);
        }
        finally
        {
            _model.train();
        }
    }

    private double Evaluate()
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            return _validationLoss!();
        }
        finally
        {
            _model.train();
        }
    }

    private void SaveBestModel() =>
        AtomicFile.Write(System.IO.Path.Combine(_outDir, BestModelFileName), stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            _model.save(writer);
            writer.Flush();
        });

    private bool PatienceExhausted(RunState state) =>
        _options.EarlyStoppingPatience is { } patience && state.EvaluationsWithoutImprovement >= patience;

    // Decay only matrices: decaying biases and norm gains pulls them towards 0, which is not a prior anyone wants.
    internal static AdamW CreateOptimizer(nn.Module model, TrainOptions options)
    {
        var decayed = new List<Parameter>();
        var notDecayed = new List<Parameter>();
        foreach (var (_, p) in model.named_parameters())
        {
            if (!p.requires_grad) continue;
            (p.dim() >= 2 ? decayed : notDecayed).Add(p);
        }
        var groups = new List<AdamW.ParamGroup>();
        if (decayed.Count > 0) groups.Add(new AdamW.ParamGroup(decayed, new AdamW.Options { weight_decay = options.WeightDecay }));
        if (notDecayed.Count > 0) groups.Add(new AdamW.ParamGroup(notDecayed, new AdamW.Options { weight_decay = 0.0 }));
        return torch.optim.AdamW(groups, options.LearningRate, options.Beta1, options.Beta2, eps: 1e-8, weight_decay: options.WeightDecay);
    }

    /// <summary>The counters a checkpoint carries.</summary>
    private sealed class RunState
    {
        public long Step;
        public double? BestValidLoss;
        public long? BestStep;
        public int EvaluationsWithoutImprovement;
        public TimeSpan PriorTime;
        public double LastTrainLoss = double.NaN;
        public double WindowLossSum;
        public double WindowAuxLossSum;
        public int WindowSteps;

        public void Restore(CheckpointContents c)
        {
            Step = c.Step;
            BestValidLoss = c.BestValidLoss;
            BestStep = c.BestStep;
            EvaluationsWithoutImprovement = c.EvaluationsWithoutImprovement;
            PriorTime = c.TrainingTime;
            LastTrainLoss = c.LastTrainLoss;
            WindowLossSum = c.LogWindowLossSum;
            WindowSteps = c.LogWindowSteps;
            WindowAuxLossSum = c.LogWindowAuxLossSum;
        }

        public CheckpointContents ToContents(string metadataJson, TimeSpan elapsed)
        {
            using var rng = torch.get_rng_state();
            return new CheckpointContents(metadataJson, Step, BestValidLoss, BestStep, EvaluationsWithoutImprovement,
                elapsed, LastTrainLoss, WindowLossSum, WindowSteps, rng.data<byte>().ToArray(), WindowAuxLossSum);
        }
    }
}
