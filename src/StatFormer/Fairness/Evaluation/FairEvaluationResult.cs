using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Fairness.Models;

namespace StatFormer.Fairness.Evaluation;

/// <summary>The probe results of one trained encoder (see <see cref="FairRunSummary"/> for the meaning of each metric; percentages 0–100).</summary>
public sealed record FairEvaluationResult(
    int ProbeTrainCount, int TestCount, double TargetAccuracy,
    double? ZMse, double? ZMseOfMean, double? ZProbeAccuracy, double? ZMajorityRate,
    double? EqualizedOdds, double? EqualizedOddsMax, double? DemographicParity,
    FareAttentionDiagnostics? Attention, FairEmbeddingProjection Projection,
    ProbeFit TargetProbeFit, ProbeFit ZProbeFit);
