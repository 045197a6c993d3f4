using StatFormer.Reporting;

namespace StatFormer.Fairness.Experiments;

/// <summary>One method's results over seeds (mean ± sample std; null where the metric does not apply to the dataset).</summary>
public sealed record FairMethodAggregate(
    string Method,
    long Params,
    MeanStd FinalTrainLoss,
    MeanStd TargetAccuracy,
    MeanStd? ZMse,
    MeanStd? ZMseOfMean,
    MeanStd? ZProbeAccuracy,
    MeanStd? ZMajorityRate,
    MeanStd? EqualizedOdds,
    MeanStd? EqualizedOddsMax,
    MeanStd? DemographicParity,
    MeanStd? AttentionEntropy,
    MeanStd? AttentionUniformEntropy,
    MeanStd? AttentionDistanceRatio,
    MeanStd SamplesPerSecond,
    MeanStd WallSeconds,
    MeanStd TrainSeconds,
    MeanStd EvalSeconds);
