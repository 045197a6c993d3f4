using StatFormer.Moe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Probes.AdaptiveClustering;

/// <summary>
/// The probe's model: two residual MoE layers on the raw features (h₁ = x + MoE₀(x), h₂ = h₁ + MoE₁(h₁, routing₀)) and a
/// linear read-out of h₂. Layer 0 always uses the base router; layer 1 uses the base router or its AC version, which
/// clusters on layer 0's top-1 experts. Working on the features themselves (no embedding) keeps the AC weights per
/// feature, so they can be compared with the generator's true subsets.
/// </summary>
public sealed class AcProbeModel : Module<Tensor, AcProbeOutput>
{
    private readonly MoeFeedForward first;
    private readonly MoeFeedForward second;
    private readonly Linear head;

    public AcProbeModel(int features, MoeKind secondKind, MoeOptions options, string name = "ac_probe") : base(name)
    {
        first = new MoeFeedForward(features, MoeKindNames.BaseOf(secondKind), options, causal: false, name: "moe0");
        second = new MoeFeedForward(features, secondKind, options, causal: false, name: "moe1");
        head = Linear(features, 1);
        RegisterComponents();
    }

    /// <summary>The second MoE layer (its router is the AC router in an AC variant).</summary>
    public MoeFeedForward Second => second;

    /// <param name="x">[N, F] tokens.</param>
    public override AcProbeOutput forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var a = first.forward(x, null);
        var h = x + a.Output;
        var b = second.forward(h, a.Routing);
        var prediction = head.forward(h + b.Output).squeeze(-1);
        return new AcProbeOutput(prediction.MoveToOuterDisposeScope(), (a.BalanceLoss + b.BalanceLoss).MoveToOuterDisposeScope(),
            a.Routing.TopIndices.select(1, 0).MoveToOuterDisposeScope(), b.Routing.TopIndices.select(1, 0).MoveToOuterDisposeScope());
    }
}

/// <summary>Predictions [N], the summed balance loss (scalar), and each layer's top-1 expert per token [N].</summary>
public sealed record AcProbeOutput(Tensor Prediction, Tensor BalanceLoss, Tensor FirstExperts, Tensor SecondExperts);
