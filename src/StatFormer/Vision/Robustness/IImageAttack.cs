using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Robustness;

/// <summary>One adversarial attack on an image classifier.</summary>
public interface IImageAttack
{
    /// <summary>The attack's command-line name ("pgd", "apgd-ce").</summary>
    string Name { get; }

    /// <summary>True when the attack only queries the model's outputs (SPSA, Square): it sees through masked gradients.</summary>
    bool GradientFree { get; }

    /// <summary>
    /// Adversarial versions of <paramref name="images"/> (float [B,C,H,W]) inside <paramref name="threat"/>, pushing away
    /// from <paramref name="labels"/> (int64 [B]). The model must already be in eval mode; its parameters get no gradients.
    /// All random draws come from <paramref name="generator"/>. Returns a new tensor.
    /// </summary>
    Tensor Perturb(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, ThreatModel threat, Generator generator);
}

/// <summary>The losses and the input gradient the attacks share.</summary>
internal static class AttackLosses
{
    /// <summary>Per-example cross-entropy [B].</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels) =>
        nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None);

    /// <summary>Per-example margin z_y − max_{i≠y} z_i [B]: negative exactly when the prediction is not y.</summary>
    public static Tensor Margin(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        var index = labels.unsqueeze(1);
        var own = logits.gather(1, index).squeeze(1);
        var others = logits.scatter(1, index, torch.full_like(index, double.NegativeInfinity, dtype: logits.dtype)).amax(new long[] { 1 });
        return (own - others).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The targeted DLR loss −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2) [B] (π: classes sorted by logit, descending), to be
    /// maximised; needs at least four classes.
    /// </summary>
    public static Tensor TargetedDlr(Tensor logits, Tensor labels, Tensor targets)
    {
        using var scope = torch.NewDisposeScope();
        var sorted = logits.sort(dim: 1, descending: true).Values;
        var own = logits.gather(1, labels.unsqueeze(1)).squeeze(1);
        var target = logits.gather(1, targets.unsqueeze(1)).squeeze(1);
        var spread = sorted[.., 0] - (sorted[.., 2] + sorted[.., 3]) * 0.5 + 1e-12;
        return (target - own).div(spread).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ∇ₓ Σ loss(model(x)) with the per-example loss [B] and the logits, all detached. Only the input's gradient is
    /// computed (autograd.grad), so the parameters' .grad stay untouched; grad mode is forced on, since evaluation code
    /// may call this under no_grad.
    /// </summary>
    public static (Tensor Gradient, Tensor Loss, Tensor Logits) InputGradient(nn.Module<Tensor, Tensor> model, Tensor x,
        Func<Tensor, Tensor> loss)
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var input = x.detach().requires_grad_(true);
        var logits = model.forward(input);
        var perExample = loss(logits);
        var gradient = torch.autograd.grad(new[] { perExample.sum() }, new[] { input })[0];
        return (gradient.detach().MoveToOuterDisposeScope(), perExample.detach().MoveToOuterDisposeScope(), logits.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Loop-state update inside a step's dispose scope: <paramref name="value"/> moves to the enclosing scope and the
    /// previous state is freed now, so a long attack loop holds one copy of its state, not one per step.
    /// </summary>
    public static void Replace(ref Tensor slot, Tensor value)
    {
        value.MoveToOuterDisposeScope();
        slot.Dispose();
        slot = value;
    }

    /// <summary>Logits without building a graph.</summary>
    public static Tensor Logits(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        using var noGrad = torch.no_grad();
        return model.forward(x);
    }
}
