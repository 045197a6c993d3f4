using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Transformer;

/// <summary>The position-wise MLP of a Transformer block: Linear → GELU (exact or tanh approximation) → Linear → dropout.</summary>
public sealed class FeedForward : Module<Tensor, Tensor>
{
    private readonly Linear up;
    private readonly Linear down;
    private readonly Dropout dropout;
    private readonly FeedForwardActivation activation;

    public FeedForward(int dModel, int hidden, double dropout, string name = "ffn", FeedForwardActivation activation = FeedForwardActivation.Gelu) : base(name)
    {
        this.activation = activation;
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
        var h = up.forward(x);
        h = activation == FeedForwardActivation.GeluTanh ? GeluTanh(h) : nn.functional.gelu(h);
        return dropout.forward(down.forward(h)).MoveToOuterDisposeScope();
    }

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), GPT-2's "gelu_new" (TorchSharp's gelu has no tanh mode).</summary>
    public static Tensor GeluTanh(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var inner = (x + x.pow(3) * 0.044715) * Math.Sqrt(2.0 / Math.PI);
        return (x * 0.5 * (inner.tanh() + 1.0)).MoveToOuterDisposeScope();
    }
}

/// <summary>The nonlinearity of a dense feed-forward layer.</summary>
public enum FeedForwardActivation
{
    /// <summary>The exact GELU, x·Φ(x).</summary>
    Gelu,

    /// <summary>GELU's tanh approximation (GPT-2's gelu_new, PyTorch's approximate="tanh").</summary>
    GeluTanh,
}
