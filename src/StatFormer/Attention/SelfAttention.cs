using StatFormer.Transformer;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Attention;

/// <summary>
/// Multi-head self-attention: one fused q/k/v projection, an attention rule chosen by the subclass
/// (<see cref="QueryTransform"/>), and an output projection. The small interface every variant shares:
/// it takes the residual stream x [B,N,C], the previous layer's values (or null) and an optional
/// padding mask, and returns its output and its own values for the next layer.
/// </summary>
public abstract class SelfAttention : nn.Module<Tensor, Tensor?, Tensor?, AttentionOutput>
{
    private readonly Linear qkv;
    private readonly Linear proj;

    protected SelfAttention(string name, int dModel, int heads, double dropout, bool causal) : base(name)
    {
        if (heads < 1 || dModel % heads != 0)
            throw new ArgumentException($"d_model ({dModel}) must be a positive multiple of heads ({heads})");
        DModel = dModel;
        Heads = heads;
        HeadDim = dModel / heads;
        Dropout = dropout;
        Causal = causal;
        qkv = Linear(dModel, 3 * dModel);
        proj = Linear(dModel, dModel);
    }

    public int DModel { get; }
    public int Heads { get; }
    public int HeadDim { get; }
    public double Dropout { get; }
    public bool Causal { get; }

    /// <summary>Fused (libtorch SDPA) or the explicit reference; both compute the same function.</summary>
    public AttentionKernel Kernel { get; set; } = AttentionKernel.Fused;

    /// <summary>The output projection (exposed so models can apply their residual-scaled initialisation).</summary>
    public Linear OutputProjection => proj;

    /// <param name="x">[B,N,C]</param>
    /// <param name="previousValues">The previous layer's values [B,H,N,D], or null in the first layer.</param>
    /// <param name="keyPaddingMask">Optional [B,N] bool, true at padding positions.</param>
    public override AttentionOutput forward(Tensor x, Tensor? previousValues, Tensor? keyPaddingMask)
    {
        using var scope = torch.NewDisposeScope();
        var (b, n, c) = (x.shape[0], x.shape[1], x.shape[2]);
        // unbind, not three selects: backward stacks the three gradients once instead of zero-filling a [3,B,H,N,D]
        // gradient per select and adding them up.
        var heads = qkv.forward(x).reshape(b, n, 3, Heads, HeadDim).permute(2, 0, 3, 1, 4).unbind(0);  // 3 × [B,H,N,D]
        var q = heads[0];
        var k = heads[1];
        var v = heads[2];
        var (queryScale, metric) = QueryTransform(q, v, previousValues, keyPaddingMask);
        var attended = Attend(q, k, v, metric, queryScale, keyPaddingMask);
        var y = proj.forward(attended.transpose(1, 2).reshape(b, n, c));
        return new AttentionOutput(y.MoveToOuterDisposeScope(), v.detach().MoveToOuterDisposeScope(), metric?.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The cached path of a causal layer (evaluation only): x [B,n,C] holds positions t₀ … t₀+n−1 with
    /// t₀ = <paramref name="position"/>, the positions before them are in <paramref name="cache"/>; their keys and
    /// values are written into it. Each new position attends to every cached position and to the new ones up to
    /// itself, so the output equals the full forward's at those positions. <paramref name="previousValues"/> are the
    /// previous layer's values at the new positions only [B,H,n,D].
    /// </summary>
    public AttentionOutput Step(Tensor x, Tensor? previousValues, LayerCache cache, int position)
    {
        if (!Causal) throw new InvalidOperationException("only causal attention can decode with a cache");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (b, n, c) = (x.shape[0], x.shape[1], x.shape[2]);
        var heads = qkv.forward(x).reshape(b, n, 3, Heads, HeadDim).permute(2, 0, 3, 1, 4).unbind(0);  // 3 × [B,H,n,D]
        var q = heads[0];
        var k = heads[1];
        var v = heads[2];
        cache.KeyBuffer.narrow(2, position, n).copy_(k);
        cache.ValueBuffer.narrow(2, position, n).copy_(v);
        var keys = cache.KeyBuffer.narrow(2, 0, position + n);                        // [B,H,t₀+n,D]
        var values = cache.ValueBuffer.narrow(2, 0, position + n);
        var (queryScale, metric) = StepQueryTransform(q, v, previousValues, cache);
        var attended = AttendCached(q, keys, values, metric, queryScale, position);
        var y = proj.forward(attended.transpose(1, 2).reshape(b, n, c));
        return new AttentionOutput(y.MoveToOuterDisposeScope(), v.detach().MoveToOuterDisposeScope(), metric?.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <see cref="QueryTransform"/> for new positions of a decoded sequence (q, v and previousValues [B,H,n,D]).
    /// The default suits a variant whose transform does not look at earlier positions; one that does (the causal
    /// elliptical estimator) overrides it and keeps its running state in <paramref name="cache"/>.
    /// </summary>
    protected virtual (double QueryScale, Tensor? Metric) StepQueryTransform(Tensor q, Tensor v, Tensor? previousValues, LayerCache cache) =>
        QueryTransform(q, v, previousValues, null);

    /// <summary>Queries of positions t₀ … t₀+n−1 against keys and values of positions 0 … t₀+n−1.</summary>
    private Tensor AttendCached(Tensor q, Tensor keys, Tensor values, Tensor? metric, double queryScale, int position)
    {
        var n = q.shape[2];
        // One new position sees every key; a prompt from position 0 is the full forward's causal case; a block of
        // new positions after cached ones needs the causal mask shifted by t₀ (SDPA's flag aligns it top-left).
        var causalFlag = n > 1 && position == 0;
        Tensor? allowed = null;
        if (n > 1 && position > 0)
        {
            var query = torch.arange(position, position + n, dtype: ScalarType.Int64, device: q.device).unsqueeze(1);
            var key = torch.arange(position + n, dtype: ScalarType.Int64, device: q.device).unsqueeze(0);
            allowed = key.le(query).reshape(1, 1, n, position + n);                          // [1,1,n,t₀+n]
        }
        if (Kernel == AttentionKernel.Explicit)
            return ExplicitAttention.Compute(q, keys, values, metric, allowed, causalFlag, queryScale / Math.Sqrt(HeadDim));
        var qm = metric is null ? q : q * metric;
        if (queryScale != 1.0) qm = qm * queryScale;
        return nn.functional.scaled_dot_product_attention(qm, keys, values, allowed, 0.0, causalFlag);
    }

    /// <summary>
    /// The variant's rule: a factor on the standard 1/√D score scale and an optional diagonal metric
    /// ([B,H,1,D] or [B,H,N,D], no gradient) applied to the queries.
    /// </summary>
    protected abstract (double QueryScale, Tensor? Metric) QueryTransform(Tensor q, Tensor v, Tensor? previousValues, Tensor? keyPaddingMask);

    private Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor? metric, double queryScale, Tensor? keyPaddingMask)
    {
        var allowed = AllowedMask(q.shape[2], keyPaddingMask);
        var causalFlag = Causal && allowed is null;
        if (Kernel == AttentionKernel.Explicit)
        {
            return ExplicitAttention.Compute(q, k, v, metric, allowed, causalFlag, queryScale / Math.Sqrt(HeadDim), training ? Dropout : 0.0);
        }
        // q ⊙ m · s is exactly q·diag(m)·s, so the fused kernel computes the elliptical scores unchanged.
        var qm = metric is null ? q : q * metric;
        if (queryScale != 1.0) qm = qm * queryScale;
        return nn.functional.scaled_dot_product_attention(qm, k, v, allowed, training ? Dropout : 0.0, causalFlag);
    }

    /// <summary>
    /// Padding and causality as one bool mask [B,1,N,N] (true = may attend), or null when only the
    /// causal flag is needed (the fused kernel then skips the mask entirely). Every query may always
    /// attend itself, so a row is never fully masked (which would give NaN).
    /// </summary>
    private Tensor? AllowedMask(long n, Tensor? keyPaddingMask)
    {
        if (keyPaddingMask is null) return null;
        var allowed = keyPaddingMask.logical_not().reshape(keyPaddingMask.shape[0], 1, 1, n).expand(-1, 1, n, n);
        if (Causal) allowed = allowed.logical_and(torch.ones(n, n, dtype: ScalarType.Bool, device: keyPaddingMask.device).tril());
        return allowed.logical_or(torch.eye(n, dtype: ScalarType.Bool, device: keyPaddingMask.device));
    }
}
