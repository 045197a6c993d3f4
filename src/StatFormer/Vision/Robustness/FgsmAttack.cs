using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>
/// FGSM: x' = Π(x + ε·s·sign ∇ₓ CE(f(x), y)), one forward+backward (with an L2 threat, the normalised-gradient step of
/// length ε: FGM).
/// </summary>
public sealed class FgsmAttack : IImageAttack
{
    public string Name => "fgsm";
    public bool GradientFree => false;

    public Tensor Perturb(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, ThreatModel threat, Generator generator)
    {
        threat.CheckImages(images, nameof(images));
        using var scope = torch.NewDisposeScope();
        var (gradient, _, _) = AttackLosses.InputGradient(model, images, logits => AttackLosses.CrossEntropy(logits, labels));
        return threat.Project(threat.Step(images, gradient, threat.Epsilon), images).MoveToOuterDisposeScope();
    }
}
