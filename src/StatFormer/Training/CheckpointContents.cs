namespace StatFormer.Training;

/// <summary>
/// Everything in a checkpoint besides the model weights and optimizer moments, which
/// <see cref="Checkpoint.Load"/> copies straight into the live objects.
/// </summary>
/// <param name="MetadataJson">Opaque JSON from the caller (the CLI keeps model config and tokenizer there).</param>
/// <param name="Step">Completed optimizer updates.</param>
/// <param name="EvaluationsWithoutImprovement">Early-stopping counter.</param>
/// <param name="TrainingTime">Wall time accumulated over all sessions up to this checkpoint.</param>
/// <param name="LastTrainLoss">Loss of update <paramref name="Step"/>.</param>
/// <param name="LogWindowLossSum">Sum of the losses since the last train record, so a resumed run logs the same means.</param>
/// <param name="LogWindowSteps">Number of losses in <paramref name="LogWindowLossSum"/>.</param>
/// <param name="RngState">torch.get_rng_state() bytes, so dropout masks continue identically.</param>
/// <param name="LogWindowAuxLossSum">Sum of the auxiliary losses since the last train record (0 for models without one).</param>
public sealed record CheckpointContents(
    string MetadataJson,
    long Step,
    double? BestValidLoss,
    long? BestStep,
    int EvaluationsWithoutImprovement,
    TimeSpan TrainingTime,
    double LastTrainLoss,
    double LogWindowLossSum,
    int LogWindowSteps,
    byte[] RngState,
    double LogWindowAuxLossSum = 0);
