using StatFormer.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Moe;

/// <summary>
/// A mixture-of-experts feed-forward sublayer: a router picks the top-k of E experts per token, each expert is
/// the dense MLP Linear(d,h) → GELU → Linear(h,d), and the token's output is the gate-weighted sum of its
/// experts' outputs, followed by dropout. Gates: for k ≥ 2 the softmax over the k selected logits; for k = 1
/// the Switch Transformer rule, the full-softmax probability of the chosen expert (a softmax over one logit
/// would always be 1 and the router would get no gradient from the task loss). In an AC layer the experts get the raw
/// token or the AC-scaled one the router scored (<see cref="MoeOptions.AcScaledInput"/>).
/// </summary>
/// <remarks>
/// Dispatch: the N·k assignments are sorted by expert, and the experts run either as exact-size per-expert matmuls on
/// their contiguous blocks or as two batched matmuls over a buffer padded to the busiest expert, never a loop over
/// tokens (see Dispatch and <see cref="Computation"/>).
/// Capacity (when <see cref="MoeOptions.CapacityFactor"/> &gt; 0) depends on <c>causal</c>:
/// causal (language models): per sequence, an expert takes at most ceil(factor·T·k/E) of the sequence's
/// assignments, first come first served by position, so whether position t is dropped depends only on
/// positions ≤ t of its own sequence; non-causal: over the whole batch, at most ceil(factor·N·k/E),
/// preferring higher gate weights (ties: earlier tokens), the Switch/V-MoE rule.
/// A dropped assignment contributes nothing, so a token whose every assignment is dropped gets a zero output
/// and keeps only the residual. The remaining gate weights are not renormalised. The balance loss counts the
/// router's choices before dropping.
/// Expert weights are stacked: W1 [E,d,h], b1 [E,h], W2 [E,h,d], b2 [E,d] (initialised like nn.Linear;
/// <see cref="InitialiseLikeDense"/> gives the layer a dense FFN's initialisation instead).
/// </remarks>
public sealed class MoeFeedForward : nn.Module<Tensor, RoutingState?, MoeOutput>
{
    private readonly Router router;
    private readonly Parameter w1;
    private readonly Parameter b1;
    private readonly Parameter w2;
    private readonly Parameter b2;
    private readonly Dropout dropout;

    /// <param name="causal">Language models: capacity is decided per sequence in position order (see remarks), and inputs must be [B,T,d].</param>
    public MoeFeedForward(int dModel, MoeKind kind, MoeOptions options, bool causal, string name = "moe") : base(name)
    {
        if (kind == MoeKind.None) throw new ArgumentException("MoeFeedForward needs an MoE kind (smoe, xmoe, ac-smoe or ac-xmoe), not none");
        if (MoeKindNames.IsSoft(kind)) throw new ArgumentException($"{EnumNames.Cli(kind)} is a Soft MoE kind: build a SoftMoeFeedForward");
        if (dModel < 1) throw new ArgumentException($"d_model must be positive (got {dModel})");
        options.Validate();
        OptionCheck.Require(options.ExpertHidden is not null, nameof(MoeOptions.ExpertHidden), "ExpertHidden must be set for an MoE layer built on its own (a Transformer stack resolves it)");
        DModel = dModel;
        Kind = kind;
        Causal = causal;
        Options = options;
        router = kind switch
        {
            MoeKind.Smoe => new LinearRouter(dModel, options.Experts),
            MoeKind.Xmoe => new CosineRouter(dModel, options.Experts, options.XmoeDim, options.XmoeTemperature, options.XmoeLearnableTemperature),
            MoeKind.AcSmoe or MoeKind.AcXmoe => new AdaptiveClusteringRouter(dModel, MoeKindNames.BaseOf(kind), options),
            _ => throw new ArgumentException($"unknown MoE kind {kind}"),
        };
        var (e, h) = (options.Experts, options.ExpertHidden!.Value);
        w1 = new Parameter(LinearLikeUniform(new long[] { e, dModel, h }, fanIn: dModel));
        b1 = new Parameter(LinearLikeUniform(new long[] { e, h }, fanIn: dModel));
        w2 = new Parameter(LinearLikeUniform(new long[] { e, h, dModel }, fanIn: h));
        b2 = new Parameter(LinearLikeUniform(new long[] { e, dModel }, fanIn: h));
        dropout = Dropout(options.Dropout ?? 0.0);
        RegisterComponents();
    }

    public int DModel { get; }
    public MoeKind Kind { get; }
    public bool Causal { get; }
    public MoeOptions Options { get; }
    public Router Router => router;

    /// <summary>
    /// How the experts are computed (see Dispatch): <see cref="ExpertComputation.Auto"/> (the default) takes exact-size
    /// per-expert matmuls on a CPU running libtorch on one intra-op thread, and the padded batched matmuls otherwise.
    /// The choice changes speed only: both compute the same function (equal to rounding; tests run both).
    /// </summary>
    public ExpertComputation Computation { get; set; } = ExpertComputation.Auto;

    /// <summary>What <see cref="ExpertComputation.Auto"/> runs on <paramref name="device"/> with the current intra-op thread count.</summary>
    public static ExpertComputation AutoComputation(Device device) =>
        device.type != DeviceType.CPU || torch.get_num_threads() > 1 ? ExpertComputation.Padded : ExpertComputation.PerExpert;

    private bool UsePaddedBuffer(Device device) =>
        (Computation == ExpertComputation.Auto ? AutoComputation(device) : Computation) == ExpertComputation.Padded;

    /// <summary>Benchmarks: when set, the forward pass records its phases here (see <see cref="MoePhaseClock"/>).</summary>
    public MoePhaseClock? PhaseClock { get; set; }

    /// <summary>Expert input weights W1 [E,d,h] (expert e computes x·W1[e] + b1[e]).</summary>
    public Parameter ExpertInputWeight => w1;

    /// <summary>Expert input biases b1 [E,h].</summary>
    public Parameter ExpertInputBias => b1;

    /// <summary>The projections back into the residual stream, W2 [E,h,d] (gets the residual-scaled initialisation).</summary>
    public Parameter OutputProjectionWeight => w2;

    /// <summary>Expert output biases b2 [E,d].</summary>
    public Parameter ExpertOutputBias => b2;

    /// <param name="x">[B,T,d] (causal layers: always), or [N,d].</param>
    /// <param name="previous">The previous MoE layer's routing; required by the AC kinds, ignored by the others.</param>
    public override MoeOutput forward(Tensor x, RoutingState? previous) => Run(x, previous, null, null);

    /// <summary>
    /// The cached path of a causal layer (evaluation only): x [B,n,d] holds the next n positions of B decoded
    /// sequences, <paramref name="previous"/> the previous MoE layer's routing of the same tokens. With a capacity
    /// limit, <paramref name="expertCounts"/> [B,E] int64 holds the assignments each sequence sent to each expert at
    /// earlier positions (the new ones are added to it) and <paramref name="capacity"/> the per-sequence limit
    /// (<see cref="CapacityFor"/> of the window length a full forward would have); without one both are null.
    /// The routing of a token depends only on the token itself and, for the AC router in evaluation, on its frozen
    /// running statistics and the previous layer's routing of that token, so nothing else needs to be carried.
    /// </summary>
    public MoeOutput Step(Tensor x, RoutingState? previous, Tensor? expertCounts, long? capacity)
    {
        if (!Causal || x.dim() != 3) throw new InvalidOperationException("only a causal MoE layer with [B,n,d] input can decode with a cache");
        if ((expertCounts is null) != (Options.CapacityFactor <= 0) || (expertCounts is null) != (capacity is null))
            throw new ArgumentException("with a capacity limit the cached path needs the per-sequence expert counts and the capacity; without one neither");
        return Run(x, previous, expertCounts, capacity);
    }

    /// <summary>The per-sequence capacity of a causal layer over windows of <paramref name="sequenceLength"/> tokens: ⌈c·T·k/E⌉.</summary>
    public long CapacityFor(long sequenceLength) => (long)Math.Ceiling(Options.CapacityFactor * sequenceLength * Options.TopK / Options.Experts);

    private MoeOutput Run(Tensor x, RoutingState? previous, Tensor? expertCounts, long? capacity)
    {
        if (x.dim() < 2 || x.shape[^1] != DModel)
            throw new ArgumentException($"MoE input must end in d_model = {DModel} (got [{string.Join(",", x.shape)}])");
        if (Causal && x.dim() != 3)
            throw new ArgumentException($"a causal MoE layer needs [B,T,d] input to keep capacity per sequence (got [{string.Join(",", x.shape)}])");
        using var scope = torch.NewDisposeScope();
        PhaseClock?.Start();
        var tokens = x.reshape(-1, DModel);
        var routed = router.forward(tokens, previous);
        PhaseClock?.Lap(MoePhase.Router);
        // Sorted, so column 0 is the true top-1 (the AC router's cluster label in the next layer).
        var (topLogits, topIndices) = routed.Logits.topk(Options.TopK, dim: -1, largest: true, sorted: true);
        var gates = Options.TopK == 1
            ? ExpertSoftmax.OverLastDim(routed.Logits).gather(1, topIndices)
            : ExpertSoftmax.OverLastDim(topLogits);
        var balance = LoadBalanceLoss.Compute(routed.Logits, topIndices, Options.Experts);
        PhaseClock?.Lap(MoePhase.TopKAndBalance);

        var sequenceLength = Causal ? x.shape[1] : tokens.shape[0];
        // The authors' image placement: the experts get the AC-scaled tokens the router scored.
        var expertInput = Options.AcScaledInput == AcScaledInput.RouterAndExperts && routed.ScaledTokens is { } scaled ? scaled : tokens;
        var (combined, dropped) = Dispatch(expertInput, topIndices, gates, sequenceLength, expertCounts, capacity);
        var output = dropout.forward(combined).reshape(x.shape);
        PhaseClock?.Lap(MoePhase.Combine);
        var routing = new RoutingState(topIndices.MoveToOuterDisposeScope(), gates.detach().MoveToOuterDisposeScope());
        return new MoeOutput(output.MoveToOuterDisposeScope(), routing, balance.MoveToOuterDisposeScope(),
            routed.Logits.MoveToOuterDisposeScope(), routed.RoutingFeatures.MoveToOuterDisposeScope(), dropped);
    }

    /// <summary>Runs every kept assignment through its expert and sums the gate-weighted results per token.</summary>
    /// <remarks>
    /// One stable sort of the assignments by expert (dropped ones get the key E and sort last; the batch-capacity rule's
    /// own sort already groups them, so it needs none) lists each expert's kept assignments contiguously: K kept
    /// assignments, expert e's n_e of them in one block. The experts then run either
    /// <list type="bullet">
    /// <item>per expert on exactly its block of one gathered input [K, d]: two <c>addmm</c>s (bias fused) on slices of the
    /// stacked weights taken by one <c>unbind</c> each, so backward stacks the weight gradients once — no padding, but
    /// 3·E small calls; or</item>
    /// <item>as two batched matmuls (<c>baddbmm</c>) over a buffer [E, C, d] padded to the busiest expert's count C — a
    /// few large calls that libtorch parallelises across experts, but C·E − K wasted rows (15–25 % of the expert work at
    /// the benchmark's routing).</item>
    /// </list>
    /// On one CPU thread the exact-size calls were faster, with two threads the batched ones (bench moe, results.md);
    /// <see cref="Computation"/> picks. Either way the results, in sorted order, are scaled by their gates in one multiply
    /// and summed into their tokens with one <c>index_add_</c> (no permutation back to assignment order). Dropped
    /// assignments are never computed.
    /// </remarks>
    /// <param name="sequenceLength">Causal layers: T, the tokens are B sequences of T in order; otherwise N (the batch is one group).</param>
    /// <param name="priorCounts">Cached decoding: [B,E] assignments of earlier positions per sequence and expert (updated); null in a full forward.</param>
    /// <param name="fixedCapacity">Cached decoding: the capacity of the full window; null: computed from <paramref name="sequenceLength"/>.</param>
    private (Tensor Output, long Dropped) Dispatch(Tensor tokens, Tensor topIndices, Tensor gates, long sequenceLength, Tensor? priorCounts, long? fixedCapacity)
    {
        var n = tokens.shape[0];
        var (experts, k) = (Options.Experts, Options.TopK);
        var expertOf = topIndices.reshape(-1);          // assignment a = i·k + j → token i, slot j
        var gateOf = gates.reshape(-1);

        Tensor order;                                   // kept assignments grouped by expert
        long[] sizes;                                   // kept assignments per expert
        if (Options.CapacityFactor > 0 && !Causal)
        {
            // The capacity rule's own sort already groups the assignments by expert (in priority order): no second sort.
            (order, sizes) = KeptByGatePriority(expertOf, gateOf, fixedCapacity ?? CapacityFor(sequenceLength));
        }
        else
        {
            var key = expertOf;
            if (Options.CapacityFactor > 0)
            {
                var kept = KeptInPositionOrder(expertOf, n / sequenceLength, sequenceLength, fixedCapacity ?? CapacityFor(sequenceLength), priorCounts);
                key = expertOf.masked_fill(kept.logical_not(), experts);                              // dropped: sorted past the last expert
            }
            order = key.sort(stable: true).Indices;                                                    // grouped by expert, assignment order within
            sizes = torch.bincount(key, minlength: experts + 1).cpu().data<long>().ToArray()[..experts];
        }
        var keptCount = sizes.Sum();
        var dropped = n * k - keptCount;
        if (keptCount == 0)
        {
            PhaseClock?.Lap(MoePhase.Permutation);
            return (torch.zeros_like(tokens), dropped);
        }
        if (order.shape[0] != keptCount) order = order.narrow(0, 0, keptCount);
        var tokenOf = k == 1 ? order : order.div(k, rounding_mode: RoundingMode.floor);
        var gatesInOrder = gateOf.index_select(0, order).unsqueeze(1);
        Tensor weighted;
        if (UsePaddedBuffer(tokens.device))
        {
            // Two batched matmuls over [E, C, d], C the busiest expert's count; padding rows copy token 0 and are never read back.
            var c = sizes.Max();
            var slots = new long[keptCount];                                                            // row of each kept assignment in [E·C]
            for (int e = 0, i = 0; e < experts; e++)
                for (var r = 0L; r < sizes[e]; r++) slots[i++] = e * c + r;
            var slot = torch.tensor(slots, device: tokens.device);
            var source = torch.zeros(experts * c, dtype: ScalarType.Int64, device: tokens.device).index_put_(tokenOf, slot);
            var padded = tokens.index_select(0, source).view(experts, c, DModel);
            PhaseClock?.Lap(MoePhase.Permutation);
            PhaseClock?.CountRows(experts * c, keptCount);
            // TorchSharp's a.baddbmm(b, bias) is bias + a·b.
            var hidden = nn.functional.gelu(padded.baddbmm(w1, b1.unsqueeze(1)));
            var outputs = hidden.baddbmm(w2, b2.unsqueeze(1)).view(experts * c, DModel);
            PhaseClock?.Lap(MoePhase.ExpertMatmuls);
            weighted = outputs.index_select(0, slot) * gatesInOrder;
        }
        else
        {
            var inputBlocks = tokens.index_select(0, tokenOf).split(sizes);
            var (w1s, b1s, w2s, b2s) = (w1.unbind(0), b1.unbind(0), w2.unbind(0), b2.unbind(0));
            PhaseClock?.Lap(MoePhase.Permutation);
            PhaseClock?.CountRows(keptCount, keptCount);
            var results = new List<Tensor>(experts);
            for (var e = 0; e < experts; e++)
            {
                if (sizes[e] == 0) continue;
                var hidden = nn.functional.gelu(torch.addmm(b1s[e], inputBlocks[e], w1s[e], beta: 1, alpha: 1));
                results.Add(torch.addmm(b2s[e], hidden, w2s[e], beta: 1, alpha: 1));
            }
            PhaseClock?.Lap(MoePhase.ExpertMatmuls);
            weighted = (results.Count == 1 ? results[0] : torch.cat(results, 0)) * gatesInOrder;
        }
        var output = torch.zeros_like(tokens).index_add_(0, tokenOf, weighted, alpha: 1);
        return (output, dropped);
    }

    /// <summary>
    /// Causal capacity: assignment (b, t, j) to expert e is kept iff sequence b sent fewer than
    /// <paramref name="capacity"/> assignments to e at positions before t (a token's k experts are distinct,
    /// so its own other slots never compete). Depends on positions ≤ t of the same sequence only.
    /// </summary>
    /// <returns>bool [N·k] in assignment order.</returns>
    /// <param name="priorCounts">[B,E] assignments at positions before this input (cached decoding; updated), or null.</param>
    private Tensor KeptInPositionOrder(Tensor expertOf, long sequences, long sequenceLength, long capacity, Tensor? priorCounts)
    {
        var k = Options.TopK;
        var perPosition = nn.functional.one_hot(expertOf, Options.Experts).reshape(sequences, sequenceLength, k, Options.Experts).sum(2);  // [B,T,E]
        var before = perPosition.cumsum(1) - perPosition;                                              // assignments at earlier positions
        if (priorCounts is not null)
        {
            before = before + priorCounts.unsqueeze(1);                                                // … including the cached ones
            priorCounts.add_(perPosition.sum(1));
        }
        var rank = before.unsqueeze(2).expand(sequences, sequenceLength, k, Options.Experts).reshape(-1, Options.Experts)
                         .gather(1, expertOf.unsqueeze(1)).reshape(-1);
        return rank.lt(capacity);
    }

    /// <summary>Batch capacity, higher gate first, ties by token order (both sorts are stable).</summary>
    /// <returns>The kept assignments grouped by expert (each expert's in priority order), and how many each expert kept.</returns>
    private (Tensor Order, long[] Sizes) KeptByGatePriority(Tensor expertOf, Tensor gateOf, long capacity)
    {
        var assignments = expertOf.shape[0];
        var byGate = gateOf.detach().sort(descending: true, stable: true).Indices;
        var byExpert = expertOf.index_select(0, byGate).sort(stable: true).Indices;
        var ordered = byGate.index_select(0, byExpert);                                                // grouped by expert, in priority order
        var groupCounts = torch.bincount(expertOf, minlength: Options.Experts);
        var groupStarts = groupCounts.cumsum(0) - groupCounts;
        var rankInOrder = torch.arange(assignments, dtype: ScalarType.Int64, device: expertOf.device)
                          - groupStarts.index_select(0, expertOf.index_select(0, ordered));
        var sizes = groupCounts.cpu().data<long>().Select(c => Math.Min(c, capacity)).ToArray();
        return (ordered.masked_select(rankInOrder.lt(capacity)), sizes);
    }

    /// <summary>
    /// The language model's initialisation, on equal footing with the dense FFN it replaces: experts like that
    /// FFN (GPT-2: weights N(0, std), biases 0, the output projection N(0, residualStd)), router matrices
    /// N(0, std) and router biases 0 like every other layer — except XMoE's expert embeddings, whose orthogonal
    /// initialisation is part of the XMoE router.
    /// </summary>
    public void InitialiseLikeDense(double std, double residualStd)
    {
        using var noGrad = torch.no_grad();
        nn.init.normal_(w1, 0.0, std);
        nn.init.zeros_(b1);
        nn.init.normal_(w2, 0.0, residualStd);
        nn.init.zeros_(b2);
        var ownInitialisation = router switch
        {
            CosineRouter cosine => cosine.ExpertEmbeddings,
            AdaptiveClusteringRouter { BaseRouter: CosineRouter cosine } => cosine.ExpertEmbeddings,
            _ => null,
        };
        foreach (var (name, p) in router.named_parameters())
        {
            if (ownInitialisation is not null && p.Handle == ownInitialisation.Handle) continue;
            if (name.EndsWith("bias")) nn.init.zeros_(p);
            else if (p.dim() >= 2) nn.init.normal_(p, 0.0, std);
        }
    }

    /// <summary>nn.Linear's default: U(−1/√fan_in, 1/√fan_in) for weights and biases.</summary>
    internal static Tensor LinearLikeUniform(long[] shape, int fanIn)
    {
        var bound = 1.0 / Math.Sqrt(fanIn);
        var t = torch.empty(shape);
        using (torch.no_grad()) t.uniform_(-bound, bound);
        return t;
    }
}

/// <summary>How <see cref="MoeFeedForward"/> computes its experts (speed only; the function is the same).</summary>
public enum ExpertComputation
{
    /// <summary>Per-expert matmuls on a CPU with one intra-op thread, padded batched matmuls otherwise.</summary>
    Auto,

    /// <summary>Two matmuls per expert on exactly its assignments (no padding; 3·E calls).</summary>
    PerExpert,

    /// <summary>Two batched matmuls over [E, C, d] padded to the busiest expert's count C.</summary>
    Padded,
}
