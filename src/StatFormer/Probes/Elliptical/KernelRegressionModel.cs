using StatFormer.Attention;
using StatFormer.Transformer;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Probes.Elliptical;

/// <summary>
/// The probe's model: each token [key features (2D), value, is-query] is embedded linearly, a two-layer non-causal
/// <see cref="TransformerStack"/> mixes them (layer 0 softmax; layer 1 softmax or elliptical, which estimates m from
/// layer 0's values), and a linear read-out of the query token (the last) predicts its value. Only layer 1's attention
/// rule differs between the two arms, so the comparison isolates the metric.
/// </summary>
public sealed class KernelRegressionModel : Module<Tensor, Tensor>
{
    private readonly Linear embed;
    private readonly TransformerStack stack;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public KernelRegressionModel(int keyDim, int dModel, int heads, AttentionKind attention, string name = "kernel_regression") : base(name)
    {
        KeyDim = keyDim;
        embed = Linear(2 * keyDim + 2, dModel);
        stack = new TransformerStack(new TransformerStackOptions
        {
            Layers = 2, DModel = dModel, Heads = heads, Dropout = 0.0, FfnMultiplier = 2, Attention = attention,
        }, causal: false);
        norm = LayerNorm(dModel);
        head = Linear(dModel, 1);
        RegisterComponents();
    }

    public int KeyDim { get; }

    /// <summary>tokens [B, pairs+1, 2D+2] (the query last) → predictions [B].</summary>
    public override Tensor forward(Tensor tokens) => Predict(tokens, false).Prediction;

    /// <summary>The predictions [B] and, with <paramref name="withMetric"/>, layer 1's metric m [B,H,1,D_head] (null for softmax).</summary>
    public (Tensor Prediction, Tensor? Metric) Predict(Tensor tokens, bool withMetric)
    {
        using var scope = torch.NewDisposeScope();
        var output = stack.forward(embed.forward(tokens), null, withMetric);
        var query = norm.forward(output.Output.select(1, -1));                     // [B,C]
        var prediction = head.forward(query).squeeze(-1);                           // [B]
        var metric = output.Layers?[1].Metric;
        return (prediction.MoveToOuterDisposeScope(), metric?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// How strongly each key coordinate d loads on each head coordinate j of layer 1's queries along the residual path:
    /// A = W_q · diag(γ₁) · E_key [H·D_head, 2D], squared, summed over each coordinate's two features and normalised per key
    /// coordinate over each head's rows, returned
    /// as [H, D_head, D] (columns sum to 1 per head). It ignores layer 0's attention and the LayerNorm's centring, so it is
    /// the linear reading of "which head coordinates carry key coordinate d" that maps m back onto the key coordinates.
    /// </summary>
    public Tensor QueryLoadings()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var block = stack.Blocks[1];
        var parameters = block.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var c = stack.Options.DModel;
        var wq = parameters["attn.qkv.weight"].narrow(0, 0, c);                      // [C,C]: head-major rows of q
        var gamma = parameters["ln1.weight"];                                        // [C]
        var keyColumns = embed.weight!.narrow(1, 0, 2 * KeyDim);                     // [C,2D]
        var a = wq.mul(gamma.unsqueeze(0)).matmul(keyColumns);                       // [C,2D]
        var heads = stack.Options.Heads;
        var squared = a.square().reshape(c, KeyDim, 2).sum(new long[] { 2 }).reshape(heads, c / heads, KeyDim);   // [H,Dh,D]
        return squared.div(squared.sum(new long[] { 1 }, keepdim: true).clamp_min(1e-12)).MoveToOuterDisposeScope();
    }
}
