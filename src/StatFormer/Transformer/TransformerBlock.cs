using StatFormer.Attention;
using StatFormer.Moe;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch.nn;
using static TorchSharp.torch;

namespace StatFormer.Transformer;

/// <summary>
/// A pre-LayerNorm Transformer block: x + attn(LN(x)), then x + ffn(LN(x)), where the feed-forward
/// layer is either dense or a Mixture-of-Experts layer. It hands its attention values to the next
/// block (the elliptical estimator needs them) and, with MoE, its routing (the AC router needs it).
/// </summary>
public sealed class TransformerBlock : nn.Module
{
    private readonly LayerNorm ln1;
    private readonly LayerNorm ln2;
    private readonly SelfAttention attn;
    private readonly Dropout residualDropout;
    // Exactly one of the two is set; the field names are the parameter-name prefixes in checkpoints.
    private readonly FeedForward? ffn;
    private readonly MoeFeedForward? moe;

    public TransformerBlock(int dModel, SelfAttention attention, FeedForward feedForward, double dropout, string name)
        : this(dModel, attention, feedForward, null, dropout, name) { }

    public TransformerBlock(int dModel, SelfAttention attention, MoeFeedForward mixtureOfExperts, double dropout, string name)
        : this(dModel, attention, null, mixtureOfExperts, dropout, name) { }

    private TransformerBlock(int dModel, SelfAttention attention, FeedForward? feedForward, MoeFeedForward? mixtureOfExperts, double dropout, string name) : base(name)
    {
        ln1 = LayerNorm(dModel);
        ln2 = LayerNorm(dModel);
        attn = attention;
        residualDropout = Dropout(dropout);
        ffn = feedForward;
        moe = mixtureOfExperts;
        RegisterComponents();
    }

    public SelfAttention Attention => attn;

    /// <summary>The dense feed-forward layer, or null in an MoE block.</summary>
    public FeedForward? FeedForward => ffn;

    /// <summary>The Mixture-of-Experts layer, or null in a dense block.</summary>
    public MoeFeedForward? MixtureOfExperts => moe;

    /// <param name="previousRouting">The routing of the most recent MoE layer before this block (the AC router clusters on it).</param>
    /// <returns>The new residual stream [B,N,C], this block's attention values [B,H,N,D], and the MoE layer's output when this is an MoE block.</returns>
    public BlockOutput forward(Tensor x, Tensor? previousValues, Tensor? keyPaddingMask = null, RoutingState? previousRouting = null)
    {
        using var scope = torch.NewDisposeScope();
        var a = attn.forward(ln1.forward(x), previousValues, keyPaddingMask);
        x = x + residualDropout.forward(a.Output);
        MoeOutput? moeOutput = null;
        if (moe is not null)
        {
            moeOutput = moe.forward(ln2.forward(x), previousRouting);
            x = x + moeOutput.Output;
            moeOutput = moeOutput.MoveToOuterDisposeScope();
        }
        else
        {
            x = x + ffn!.forward(ln2.forward(x));
        }
        return new BlockOutput(x.MoveToOuterDisposeScope(), a.Values.MoveToOuterDisposeScope(), moeOutput);
    }
}

/// <summary>What a <see cref="TransformerBlock"/> hands on: the residual stream, its attention values, and its MoE output (null in dense blocks).</summary>
public sealed record BlockOutput(Tensor Output, Tensor Values, MoeOutput? Moe);
