using StatFormer.Moe;
using TorchSharp;
using static StatFormer.Tests.Moe.MoeLayerReference;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

/// <summary>
/// The batched dispatch against a per-token loop written from the documented rules (top-k, gates, both capacity
/// rules, gate-weighted sum): equal outputs, dropped counts and gradients of the input, the router and the experts.
/// The loop starts from the layer's own router logits, so a router's running statistics are updated only once.
/// </summary>
public class MoeReferenceLoopTests
{
    public static TheoryData<MoeKind, int, double, bool, ExpertComputation> Cases()
    {
        var data = new TheoryData<MoeKind, int, double, bool, ExpertComputation>();
        foreach (var kind in new[] { MoeKind.Smoe, MoeKind.Xmoe, MoeKind.AcSmoe, MoeKind.AcXmoe })
            foreach (var topK in new[] { 1, 2 })
                foreach (var capacity in new[] { 0.0, 0.75 })
                    foreach (var causal in new[] { true, false })
                        foreach (var computation in new[] { ExpertComputation.PerExpert, ExpertComputation.Padded })
                            data.Add(kind, topK, capacity, causal, computation);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DispatchEqualsAPerTokenLoopWithGradients(MoeKind kind, int topK, double capacityFactor, bool causal, ExpertComputation computation)
    {
        const int batch = 2, seq = 6, d = 5, experts = 4;
        torch.manual_seed(11 + topK);
        var options = new MoeOptions { Experts = experts, TopK = topK, ExpertHidden = 7, XmoeDim = 3, CapacityFactor = capacityFactor };
        using var first = new MoeFeedForward(d, MoeKindNames.BaseOf(kind), options, causal);
        using var layer = new MoeFeedForward(d, kind, options, causal) { Computation = computation };
        using var x = randn(batch, seq, d).requires_grad_(true);
        var previous = first.forward(x.detach(), null).Routing;

        var result = layer.forward(x, previous);
        var n = batch * seq;
        var logits = result.RouterLogits;                                    // with gradient to the router
        var values = logits.detach().data<float>().ToArray();
        var top = new int[n][];
        var gates = new Tensor[n][];
        for (var i = 0; i < n; i++)
        {
            var row = values.Skip(i * experts).Take(experts).ToArray();
            top[i] = Enumerable.Range(0, experts).OrderByDescending(e => row[e]).Take(topK).ToArray();
            Assert.Equal(top[i], result.Routing.TopIndices[i].data<long>().Select(e => (int)e).ToArray());
            gates[i] = topK == 1
                ? new[] { logits[i].softmax(0)[top[i][0]] }
                : logits[i].index_select(0, tensor(top[i].Select(e => (long)e).ToArray())).softmax(0).unbind(0);
        }
        var kept = Kept(top, gates, capacityFactor, causal, batch, seq, experts, topK);

        var rows = new List<Tensor>();
        for (var i = 0; i < n; i++)
        {
            var token = x.reshape(n, d)[i].unsqueeze(0);
            var sum = zeros(d);
            for (var j = 0; j < topK; j++)
                if (kept[i][j]) sum = sum + gates[i][j] * Expert(layer, top[i][j], token).squeeze(0);
            rows.Add(sum);
        }
        var expected = stack(rows).reshape(batch, seq, d);
        Assert.Equal(kept.Sum(k => k.Count(keep => !keep)), result.DroppedAssignments);
        Assert.True(result.Output.allclose(expected, rtol: 1e-5, atol: 1e-6), "forward");

        using var weights = randn(batch, seq, d);
        var parameters = layer.parameters().Where(p => p.requires_grad).Prepend(x).ToList();
        var actualGrads = Gradients((result.Output * weights).sum(), parameters, retain: true);
        var expectedGrads = Gradients((expected * weights).sum(), parameters, retain: false);
        for (var p = 0; p < parameters.Count; p++)
            Assert.True(actualGrads[p].allclose(expectedGrads[p], rtol: 1e-4, atol: 1e-5), $"gradient {p} of {parameters.Count}");
    }

    /// <summary>Backward of <paramref name="loss"/> alone: the gradient of each tensor (zero where none reaches it).</summary>
    private static List<Tensor> Gradients(Tensor loss, List<Tensor> tensors, bool retain)
    {
        foreach (var t in tensors) t.grad?.zero_();
        loss.backward(retain_graph: retain);
        return tensors.Select(t => t.grad is null ? zeros_like(t) : t.grad.clone()).ToList();
    }

    /// <summary>
    /// The capacity rules as documented: causal, per sequence in position order, at most ceil(c·T·k/E) per expert;
    /// otherwise over the batch, at most ceil(c·N·k/E), the highest gates first and ties to the earlier assignment.
    /// </summary>
    private static bool[][] Kept(int[][] top, Tensor[][] gates, double factor, bool causal, int batch, int seq, int experts, int topK)
    {
        var n = top.Length;
        var kept = Enumerable.Range(0, n).Select(_ => Enumerable.Repeat(true, topK).ToArray()).ToArray();
        if (factor <= 0) return kept;
        if (causal)
        {
            var capacity = (long)Math.Ceiling(factor * seq * topK / experts);
            for (var b = 0; b < batch; b++)
            {
                var used = new long[experts];
                for (var t = 0; t < seq; t++)
                {
                    var i = b * seq + t;
                    for (var j = 0; j < topK; j++) kept[i][j] = used[top[i][j]] < capacity;
                    for (var j = 0; j < topK; j++) used[top[i][j]]++;
                }
            }
            return kept;
        }
        var batchCapacity = (long)Math.Ceiling(factor * n * topK / experts);
        for (var e = 0; e < experts; e++)
        {
            var mine = Enumerable.Range(0, n * topK).Where(a => top[a / topK][a % topK] == e)
                .OrderByDescending(a => gates[a / topK][a % topK].item<float>()).ThenBy(a => a).ToList();
            for (var r = 0; r < mine.Count; r++) kept[mine[r] / topK][mine[r] % topK] = r < batchCapacity;
        }
        return kept;
    }
}
