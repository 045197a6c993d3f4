namespace StatFormer.Training;

/// <summary>
/// One line of metrics.jsonl. Split is "train" (mean loss since the previous train record) or
/// "valid" (the validation loss at Step). Step counts completed updates. Loss is the language-model
/// cross-entropy; AuxLoss, for models with an auxiliary objective (MoE load balancing), is the mean
/// weighted auxiliary loss that was added to it for the gradient (null otherwise).
/// </summary>
public sealed record MetricRecord(long Step, string Split, double Loss, double LearningRate, double TokensPerSecond, double ElapsedSeconds, double? AuxLoss = null)
{
    public const string TrainSplit = "train";
    public const string ValidSplit = "valid";
}
