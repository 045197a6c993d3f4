namespace StatFormer.Training;

/// <summary>
/// A progress report. Step counts completed updates; Loss is the mean training loss since the last
/// report; TokensPerSecond covers those steps only; ValidLoss is set when this step was evaluated.
/// </summary>
public sealed record TrainingProgress(
    long Step, long TotalSteps, double Loss, double LearningRate, double TokensPerSecond,
    TimeSpan Elapsed, TimeSpan Eta, double? ValidLoss);
