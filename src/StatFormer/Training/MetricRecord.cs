namespace StatFormer.Training;

/// <summary>
/// One line of metrics.jsonl. Split is "train" (mean loss since the previous train record) or
/// "valid" (the validation loss at Step). Step counts completed updates.
/// </summary>
public sealed record MetricRecord(long Step, string Split, double Loss, double LearningRate, double TokensPerSecond, double ElapsedSeconds)
{
    public const string TrainSplit = "train";
    public const string ValidSplit = "valid";
}
