using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Moe;

/// <summary>The SMoE / Switch router: logits = Linear(d, E) with bias; it scores in the input space itself.</summary>
public sealed class LinearRouter : Router
{
    private readonly Linear gate;

    public LinearRouter(int dModel, int experts, string name = "linear_router") : base(name, dModel, experts)
    {
        gate = Linear(dModel, experts, hasBias: true);
        RegisterComponents();
    }

    public Linear Gate => gate;

    public override RouterOutput forward(Tensor x, RoutingState? previous)
    {
        using var scope = torch.NewDisposeScope();
        var logits = gate.forward(x);
        return new RouterOutput(logits.MoveToOuterDisposeScope(), x.detach().MoveToOuterDisposeScope());
    }
}
