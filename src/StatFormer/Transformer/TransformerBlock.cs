using StatFormer.Attention;
using StatFormer.Moe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Transformer;

/// <summary>
/// A pre-LayerNorm Transformer block: x + attn(LN(x)), then x + ffn(LN(x)), where the feed-forward
/// layer is either dense or a Mixture-of-Experts layer. It hands its attention values to the next
/// block (the elliptical estimator needs them) and, with MoE, its routing (the AC router needs it).
/// <c>forward(x [B,N,C], previousValues [B,H,N,D]?, keyPaddingMask [B,N]?, previousRouting?)</c>, where
/// previousRouting is the routing of the most recent MoE layer before this block.
/// </summary>
public sealed class TransformerBlock : Module<Tensor, Tensor?, Tensor?, RoutingState?, BlockOutput>
{
    private readonly LayerNorm ln1;
    private readonly LayerNorm ln2;
    private readonly SelfAttention attn;
    private readonly Dropout residualDropout;
    // Exactly one of the two is set; the field names are the parameter-name prefixes in checkpoints.
    private readonly FeedForward? ffn;
    private readonly nn.Module<Tensor, RoutingState?, MoeOutput>? moe;   // MoeFeedForward or SoftMoeFeedForward

    /// <param name="dropPath">Probability of dropping each residual branch for a whole sample in training (stochastic depth); 0: off.</param>
    public TransformerBlock(int dModel, SelfAttention attention, FeedForward feedForward, double dropout, string name, double dropPath = 0)
        : this(dModel, attention, feedForward, null, dropout, name, dropPath) { }

    /// <param name="dropPath">Probability of dropping each residual branch for a whole sample in training (stochastic depth); 0: off.</param>
    public TransformerBlock(int dModel, SelfAttention attention, MoeFeedForward mixtureOfExperts, double dropout, string name, double dropPath = 0)
        : this(dModel, attention, null, mixtureOfExperts, dropout, name, dropPath) { }

    /// <param name="dropPath">Probability of dropping each residual branch for a whole sample in training (stochastic depth); 0: off.</param>
    public TransformerBlock(int dModel, SelfAttention attention, SoftMoeFeedForward softMixtureOfExperts, double dropout, string name, double dropPath = 0)
        : this(dModel, attention, null, softMixtureOfExperts, dropout, name, dropPath) { }

    private TransformerBlock(int dModel, SelfAttention attention, FeedForward? feedForward, nn.Module<Tensor, RoutingState?, MoeOutput>? mixtureOfExperts, double dropout, string name, double dropPath) : base(name)
    {
        if (dropPath is < 0 or >= 1) throw new ArgumentException($"dropPath must be in [0, 1) (got {dropPath})", nameof(dropPath));
        DropPathProbability = dropPath;
        ln1 = LayerNorm(dModel);
        ln2 = LayerNorm(dModel);
        attn = attention;
        residualDropout = Dropout(dropout);
        ffn = feedForward;
        moe = mixtureOfExperts;
        RegisterComponents();
    }

    public SelfAttention Attention => attn;

    /// <summary>The stochastic-depth probability of each residual branch (0: off).</summary>
    public double DropPathProbability { get; }

    /// <summary>The dense feed-forward layer, or null in an MoE block.</summary>
    public FeedForward? FeedForward => ffn;

    /// <summary>The (top-k) Mixture-of-Experts layer, or null in a dense or Soft MoE block.</summary>
    public MoeFeedForward? MixtureOfExperts => moe as MoeFeedForward;

    /// <summary>The Soft MoE layer, or null in a dense or top-k MoE block.</summary>
    public SoftMoeFeedForward? SoftMixtureOfExperts => moe as SoftMoeFeedForward;

    public override BlockOutput forward(Tensor x, Tensor? previousValues, Tensor? keyPaddingMask, RoutingState? previousRouting)
    {
        using var scope = torch.NewDisposeScope();
        var a = attn.forward(ln1.forward(x), previousValues, keyPaddingMask);
        x = x + DropPath(residualDropout.forward(a.Output));                         // [B,N,C]
        MoeOutput? moeOutput = null;
        if (moe is not null)
        {
            moeOutput = moe.forward(ln2.forward(x), previousRouting);
            x = x + DropPath(moeOutput.Output);
            moeOutput = moeOutput.MoveToOuterDisposeScope();
        }
        else
        {
            x = x + DropPath(ffn!.forward(ln2.forward(x)));
        }
        return new BlockOutput(x.MoveToOuterDisposeScope(), a.Values.MoveToOuterDisposeScope(), a.Metric?.MoveToOuterDisposeScope(), moeOutput);
    }

    /// <summary>
    /// Stochastic depth on a residual branch [B,…]: in training, zero it for a whole sample with probability p and scale
    /// the kept ones by 1/(1 − p), so the expectation is unchanged; the identity otherwise (and no random draw when p = 0).
    /// </summary>
    private Tensor DropPath(Tensor branch)
    {
        if (!training || DropPathProbability == 0) return branch;
        var keep = 1 - DropPathProbability;
        var shape = new long[branch.dim()];
        Array.Fill(shape, 1L);
        shape[0] = branch.shape[0];
        var mask = torch.rand(shape, dtype: branch.dtype, device: branch.device).lt_(keep).to_type(branch.dtype).div_(keep);
        return branch * mask;
    }

    /// <summary>
    /// The cached path (evaluation only): the block at the new positions t₀ … t₀+n−1 of x [B,n,C], with the previous
    /// block's values [B,H,n,D] and the last MoE layer's routing of the same n tokens; the earlier positions are in
    /// <paramref name="cache"/>, which gets the new ones. See <see cref="TransformerStack.Step"/>.
    /// </summary>
    public BlockOutput Step(Tensor x, Tensor? previousValues, RoutingState? previousRouting, LayerCache cache, int position, long? expertCapacity)
    {
        using var scope = torch.NewDisposeScope();
        var a = attn.Step(ln1.forward(x), previousValues, cache, position);
        x = x + a.Output;                                                            // [B,n,C]
        MoeOutput? moeOutput = null;
        if (moe is not null)
        {
            moeOutput = ((MoeFeedForward)moe).Step(ln2.forward(x), previousRouting, cache.ExpertCounts, cache.ExpertCounts is null ? null : expertCapacity);
            x = x + moeOutput.Output;
            moeOutput = moeOutput.MoveToOuterDisposeScope();
        }
        else
        {
            x = x + ffn!.forward(ln2.forward(x));
        }
        return new BlockOutput(x.MoveToOuterDisposeScope(), a.Values.MoveToOuterDisposeScope(), a.Metric?.MoveToOuterDisposeScope(), moeOutput);
    }
}

/// <summary>
/// What a <see cref="TransformerBlock"/> hands on: the residual stream [B,N,C], its attention values
/// [B,H,N,D], the elliptical metric it applied (null otherwise) and its MoE output (null in dense blocks).
/// </summary>
public sealed record BlockOutput(Tensor Output, Tensor Values, Tensor? Metric, MoeOutput? Moe);
