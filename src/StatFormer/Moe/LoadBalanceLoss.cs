using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// The Switch Transformer load-balancing loss generalised to top-k:
/// L = E · Σ_e f_e · p_e, with f_e = (number of top-k assignments to e)/(N·k) (no gradient) and
/// p_e = mean_i softmax(logits_i)_e over all E experts. L = 1 when both are uniform and grows as
/// routing concentrates on few experts; the gradient flows through p only.
/// </summary>
public static class LoadBalanceLoss
{
    /// <param name="routerLogits">[N,E].</param>
    /// <param name="topIndices">int64 [N,k], the experts chosen for each token.</param>
    /// <param name="experts">E.</param>
    /// <returns>A scalar.</returns>
    public static Tensor Compute(Tensor routerLogits, Tensor topIndices, int experts)
    {
        if (routerLogits.dim() != 2 || routerLogits.shape[1] != experts)
            throw new ArgumentException($"router logits must be [N,{experts}] (got [{string.Join(",", routerLogits.shape)}])");
        if (topIndices.dim() != 2 || topIndices.shape[0] != routerLogits.shape[0])
            throw new ArgumentException($"top indices must be [N,k] with N = {routerLogits.shape[0]} (got [{string.Join(",", topIndices.shape)}])");
        using var scope = torch.NewDisposeScope();
        var assignments = topIndices.numel();
        Tensor fraction;
        using (torch.no_grad())
        {
            fraction = torch.bincount(topIndices.reshape(-1).to(ScalarType.Int64), minlength: experts).to(ScalarType.Float32) / assignments;
        }
        var probability = ExpertSoftmax.OverLastDim(routerLogits.to(ScalarType.Float32)).mean(new long[] { 0 });
        return ((fraction * probability).sum() * experts).MoveToOuterDisposeScope();
    }
}
