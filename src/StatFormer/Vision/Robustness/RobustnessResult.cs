using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// Accuracy on clean images and under each attack at each ε, over <see cref="Images"/> images. Accuracy always counts
/// the prediction on the (adversarial) image against the true label, whatever label the attacks used.
/// </summary>
/// <param name="WorstCase">Per ε, robust only if every attack failed (null when not asked for).</param>
/// <param name="Gaps">Per ε, the lowest accuracy over the gradient attacks and over the gradient-free ones; present only
/// when both kinds ran. Gradient-free clearly lower than gradient-based signals masked gradients.</param>
public sealed record RobustnessResult(double CleanAccuracy, int Images, IReadOnlyList<AttackCurve> Curves,
    IReadOnlyList<EpsilonAccuracy>? WorstCase, IReadOnlyList<GradientFreeGap> Gaps);

/// <summary>One attack's robust accuracy against ε.</summary>
public sealed record AttackCurve(string Attack, bool GradientFree, IReadOnlyList<EpsilonAccuracy> Points);

public sealed record EpsilonAccuracy(double Epsilon, double RobustAccuracy);

/// <summary>At one ε: min accuracy over the gradient attacks run and min over the gradient-free ones.</summary>
public sealed record GradientFreeGap(double Epsilon, double GradientRobustAccuracy, double GradientFreeRobustAccuracy)
{
    /// <summary>Gradient minus gradient-free accuracy: clearly positive means the gradients mislead.</summary>
    public double Gap => GradientRobustAccuracy - GradientFreeRobustAccuracy;
}

/// <summary>Where <see cref="RobustnessEvaluation.Evaluate"/> is: after each (batch, ε, attack).</summary>
public sealed record RobustnessProgress(int Batch, int Batches, string Attack, double Epsilon, int ImagesDone, int Images);

/// <summary>A few attacked images for a grid: all tensors have the first dimension <c>count</c>. Owns its tensors.</summary>
/// <param name="Clean">float [n,C,H,W] in [0, 1].</param>
/// <param name="Adversarial">float [n,C,H,W].</param>
/// <param name="Labels">int64 [n], the true labels.</param>
/// <param name="CleanPredictions">int64 [n].</param>
/// <param name="AdversarialPredictions">int64 [n].</param>
public sealed record AdversarialExamples(string Attack, double Epsilon, Tensor Clean, Tensor Adversarial, Tensor Labels,
    Tensor CleanPredictions, Tensor AdversarialPredictions) : IDisposable
{
    public void Dispose()
    {
        Clean.Dispose();
        Adversarial.Dispose();
        Labels.Dispose();
        CleanPredictions.Dispose();
        AdversarialPredictions.Dispose();
    }
}
