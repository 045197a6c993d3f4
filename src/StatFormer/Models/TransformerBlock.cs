using TorchSharp;
using TorchSharp.Modules;
using StatFormer.Attention;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Models;

/// <summary>
/// A pre-LayerNorm Transformer block: x + attn(LN(x)), then x + ffn(LN(x)). It hands its attention
/// values to the next block, which the elliptical estimator needs.
/// </summary>
public sealed class TransformerBlock : nn.Module
{
    private readonly LayerNorm ln1;
    private readonly LayerNorm ln2;
    private readonly SelfAttention attn;
    private readonly Dropout residualDropout;
    private readonly FeedForward ffn;

    public TransformerBlock(int dModel, SelfAttention attention, FeedForward feedForward, double dropout, string name) : base(name)
    {
        ln1 = LayerNorm(dModel);
        ln2 = LayerNorm(dModel);
        attn = attention;
        residualDropout = Dropout(dropout);
        ffn = feedForward;
        RegisterComponents();
    }

    public SelfAttention Attention => attn;
    public FeedForward FeedForward => ffn;

    /// <returns>The new residual stream [B,N,C] and this block's attention values [B,H,N,D].</returns>
    public (Tensor Output, Tensor Values) forward(Tensor x, Tensor? previousValues, Tensor? keyPaddingMask = null)
    {
        using var scope = torch.NewDisposeScope();
        var a = attn.forward(ln1.forward(x), previousValues, keyPaddingMask);
        x = x + residualDropout.forward(a.Output);
        x = x + ffn.forward(ln2.forward(x));
        return (x.MoveToOuterDisposeScope(), a.Values.MoveToOuterDisposeScope());
    }
}
