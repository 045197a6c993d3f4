namespace StatFormer.Training;

/// <summary>
/// Outcome of <see cref="Trainer.Run"/>. History holds every metric record of the run, including
/// those written before a resume. TokensPerSecond is the training throughput of this session.
/// </summary>
public sealed record TrainingResult(
    long StepsCompleted, double FinalTrainLoss, double? BestValidLoss, long? BestStep, bool StoppedEarly,
    double TokensPerSecond, IReadOnlyList<MetricRecord> History);
