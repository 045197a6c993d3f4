using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Attention;

/// <summary>
/// The plain reference: scores = (q · diag(m)) kᵀ · scale, masked, softmax, times v, with the metric
/// materialised as a D×D diagonal matrix exactly as the authors' code does. Tests check the fused
/// path against it, and the attention benchmark shows what folding m into q saves.
/// </summary>
public static class ExplicitAttention
{
    /// <param name="q">[B,H,N,D]</param>
    /// <param name="k">[B,H,N,D]</param>
    /// <param name="v">[B,H,N,D]</param>
    /// <param name="metric">null (identity), [B,H,1,D] (one m per sequence) or [B,H,N,D] (one m per query).</param>
    /// <param name="allowed">null, or a bool mask broadcastable to [B,H,N,N], true where query i may attend key j.</param>
    /// <param name="causal">Adds the lower-triangular restriction.</param>
    /// <param name="scale">Multiplies the scores (1/√D for standard attention).</param>
    /// <param name="dropout">Dropout on the attention probabilities (training only; pass 0 in evaluation).</param>
    public static Tensor Compute(Tensor q, Tensor k, Tensor v, Tensor? metric, Tensor? allowed, bool causal, double scale, double dropout = 0.0)
    {
        using var scope = torch.NewDisposeScope();
        Tensor scores;
        if (metric is null)
        {
            scores = q.matmul(k.transpose(-2, -1));
        }
        else if (metric.shape[2] == 1)
        {
            var diag = torch.diag_embed(metric.squeeze(2));                       // [B,H,D,D]
            scores = q.matmul(diag).matmul(k.transpose(-2, -1));
        }
        else
        {
            var diag = torch.diag_embed(metric);                                  // [B,H,N,D,D]: one metric per query row
            var qm = q.unsqueeze(-2).matmul(diag).squeeze(-2);                    // [B,H,N,D]
            scores = qm.matmul(k.transpose(-2, -1));
        }
        scores = scores * scale;
        var n = q.shape[2];
        if (causal)
        {
            // On q's device: a CPU mask against CUDA scores fails (or forces a transfer) in masked_fill.
            var future = torch.ones(n, k.shape[2], dtype: ScalarType.Bool, device: q.device).triu(1);   // true where key j > query i
            scores = scores.masked_fill(future, double.NegativeInfinity);
        }
        if (allowed is not null)
            scores = scores.masked_fill(allowed.logical_not(), double.NegativeInfinity);
        var probabilities = scores.softmax(-1);
        if (dropout > 0) probabilities = nn.functional.dropout(probabilities, dropout, training: true);
        var output = probabilities.matmul(v);
        return output.MoveToOuterDisposeScope();
    }
}
