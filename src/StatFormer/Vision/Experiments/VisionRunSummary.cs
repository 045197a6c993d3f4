using StatFormer.Analysis;
using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Evaluation;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;

namespace StatFormer.Vision.Experiments;

/// <summary>One vision run's result, written as summary.json in its folder.</summary>
public sealed record VisionRunSummary
{
    /// <summary>softmax, elliptical or resnet18.</summary>
    public required string Variant { get; init; }
    public required string Architecture { get; init; }
    /// <summary>The elliptical estimator trained with, and the one evaluated and attacked with ("none" for softmax and ResNet).</summary>
    public required string TrainEstimator { get; init; }
    public required string EvalEstimator { get; init; }
    public required string Data { get; init; }
    public required int Classes { get; init; }
    public required IReadOnlyList<int> ImageShape { get; init; }
    public required long TrainImages { get; init; }
    public required long TestImages { get; init; }
    public required long Params { get; init; }
    public required long Steps { get; init; }
    public required int Seed { get; init; }
    public required double FinalTrainLoss { get; init; }
    /// <summary>Top-1 accuracy on the whole test set.</summary>
    public required double CleanAccuracy { get; init; }
    public required double CleanLoss { get; init; }
    /// <summary>Clean and robust accuracy on the attacked subset (Eval.Attack.MaxImages).</summary>
    public required RobustnessResult Robustness { get; init; }
    /// <summary>Per ViT layer: representation collapse and the elliptical metric (empty for the ResNet).</summary>
    public required IReadOnlyList<VisionLayerDiagnostics> Layers { get; init; }
    /// <summary>
    /// MoE ViT: routing diagnostics per MoE layer on the whole test set (<see cref="VisionEvaluation.Routing"/>); the
    /// "topic" fields are against the image's class (every token, the class token included, carries its image's label).
    /// Null for dense models.
    /// </summary>
    public MoeDiagnostics? Routing { get; init; }
    /// <summary>Accuracy and ECE under the corruptions and the max-softmax OOD AUROCs (Eval.Corruption); null when not asked for.</summary>
    public CorruptionResult? Corruption { get; init; }
    public required bool AdversarialTraining { get; init; }
    /// <summary>Training images per second (wall time of the steps).</summary>
    public required double ImagesPerSecond { get; init; }
    public required double WallSeconds { get; init; }
    public required double TrainSeconds { get; init; }
    public required double EvalSeconds { get; init; }
    public required VisionModelSpec Spec { get; init; }
    public required VisionRunOptions Options { get; init; }
}
