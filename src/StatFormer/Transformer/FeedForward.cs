using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Transformer;

/// <summary>The position-wise MLP of a Transformer block: Linear → GELU → Linear → dropout.</summary>
public sealed class FeedForward : Module<Tensor, Tensor>
{
    private readonly Linear up;
    private readonly Linear down;
    private readonly Dropout dropout;

    public FeedForward(int dModel, int hidden, double dropout, string name = "ffn") : base(name)
    {
        up = Linear(dModel, hidden);
        down = Linear(hidden, dModel);
        this.dropout = Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>The projection back into the residual stream (gets the residual-scaled initialisation).</summary>
    public Linear OutputProjection => down;

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return dropout.forward(down.forward(nn.functional.gelu(up.forward(x)))).MoveToOuterDisposeScope();
    }
}
