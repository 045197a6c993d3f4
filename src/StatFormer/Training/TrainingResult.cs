namespace StatFormer.Training;

/// <summary>
/// Outcome of <see cref="Trainer.Run"/>. History holds every metric record of the run, including
/// those written before a resume. TokensPerSecond is the training throughput of this session.
/// </summary>
public sealed record TrainingResult(
    long StepsCompleted, double FinalTrainLoss, double? BestValidLoss, long? BestStep, bool StoppedEarly,
    double TokensPerSecond, IReadOnlyList<MetricRecord> History)
{
    /// <summary>
    /// The throughput a run reports (tokens or samples per second): this session's; when the session trained nothing
    /// (a finished run resumed to re-evaluate it), the mean of the throughputs its log recorded, rather than 0.
    /// </summary>
    public double Throughput
    {
        get
        {
            if (TokensPerSecond > 0) return TokensPerSecond;
            var recorded = History.Where(r => r.Split == MetricRecord.TrainSplit && r.TokensPerSecond > 0).Select(r => r.TokensPerSecond).ToList();
            return recorded.Count > 0 ? recorded.Average() : 0;
        }
    }
}
