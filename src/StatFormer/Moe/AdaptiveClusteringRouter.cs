using StatFormer.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// The ACMoE router: it scales each token by the feature weights of its cluster under the previous MoE
/// layer's routing (<see cref="AdaptiveClusteringWeights"/>, clusters = that layer's top-1 experts) and
/// routes the scaled token with a standard base router (linear for AC-SMoE, cosine for AC-XMoE).
/// The router returns the scaled tokens beside its logits (<see cref="RouterOutput.ScaledTokens"/>); whether the experts
/// get them or the raw tokens is the MoE layer's choice (<see cref="MoeOptions.AcScaledInput"/>).
/// </summary>
/// <remarks>
/// The cluster spreads come from <see cref="MoeOptions.AcEstimator"/>: by default running statistics of
/// past training batches (buffers <c>running_count</c> [K] and <c>running_deviation</c> [K,d], the
/// count-weighted averages of n_k and n_k·MAD_k, stored in checkpoints), updated after each training batch
/// is routed and frozen in evaluation; before the first update every weight is 1 (the base router). With
/// <see cref="AcEstimator.Batch"/>, the current batch's statistics, as the authors compute them.
/// The weights carry no gradient: gradients reach x through x ⊙ W (W a constant) and the base router's
/// parameters, never the weights or the previous layer's routing. The previous layer must have the same
/// number of experts (its labels are the clusters).
/// </remarks>
public sealed class AdaptiveClusteringRouter : Router
{
    private readonly Router baseRouter;
    private readonly double epsilon;
    private readonly double clipMultiple;
    private readonly AcNormalisation normalisation;
    private readonly bool mixTopK;
    private readonly double momentum;

    /// <param name="baseKind">Smoe (linear), Xmoe (cosine) or SoftMoe (slot logits): the router that scores the scaled tokens.</param>
    public AdaptiveClusteringRouter(int dModel, MoeKind baseKind, MoeOptions options, string name = "ac_router")
        : base(name, dModel, options.Experts)
    {
        options.Validate();
        baseRouter = baseKind switch
        {
            MoeKind.Smoe => new LinearRouter(dModel, options.Experts),
            MoeKind.Xmoe => new CosineRouter(dModel, options.Experts, options.XmoeDim, options.XmoeTemperature, options.XmoeLearnableTemperature),
            MoeKind.SoftMoe => new SlotRouter(dModel, options.Experts * options.SlotsPerExpert),
            _ => throw new ArgumentException($"the AC router wraps smoe, xmoe or soft-moe, not {EnumNames.Cli(baseKind)}"),
        };
        BaseKind = baseKind;
        Estimator = options.AcEstimator;
        epsilon = options.AcEpsilon;
        clipMultiple = options.AcClipMultiple;
        normalisation = options.AcNormalisation;
        // A Soft MoE layer hands on its top slots' clusters and their softmax weights: always mixed (one column = top-1).
        mixTopK = options.AcMixTopK || baseKind == MoeKind.SoftMoe;
        momentum = options.AcMomentum;
        RegisterComponents();
        // Buffers, not parameters: they move with the module and are saved in checkpoints (a resumed or
        // evaluated run routes with exactly the statistics training left).
        register_buffer("running_count", torch.zeros(options.Experts).DetachFromDisposeScope());
        register_buffer("running_deviation", torch.zeros(options.Experts, dModel).DetachFromDisposeScope());
    }

    public MoeKind BaseKind { get; }

    public AcEstimator Estimator { get; }

    /// <summary>The wrapped router (it scores the scaled tokens).</summary>
    public Router BaseRouter => baseRouter;

    public override bool NeedsPreviousRouting => true;

    /// <summary>Running estimator: the average token count per cluster and batch [K] (0 before the first training batch).</summary>
    public Tensor RunningCount => get_buffer("running_count")!;

    /// <summary>Running estimator: the average of n_k·MAD_k per batch [K,d]; MAD_k = running_deviation / running_count.</summary>
    public Tensor RunningDeviation => get_buffer("running_deviation")!;

    /// <summary>The per-token weights [N,d] (no gradient) the router input is multiplied by; changes no state.</summary>
    public Tensor TokenWeights(Tensor x, RoutingState previous)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (topIndices, labels) = Clusters(x, previous);
        return PerToken(x, previous, topIndices, labels, ReadRunningStatistics()).MoveToOuterDisposeScope();
    }

    public override RouterOutput forward(Tensor x, RoutingState? previous)
    {
        if (previous is null)
            throw new InvalidOperationException("the AC router needs the previous MoE layer's routing; the first MoE layer must use the base router");
        using var scope = torch.NewDisposeScope();
        Tensor weights, labels;
        RunningStatistics? running;
        using (torch.no_grad())
        {
            (var topIndices, labels) = Clusters(x, previous);
            running = ReadRunningStatistics();
            weights = PerToken(x, previous, topIndices, labels, running);
        }
        var scaled = x * weights;
        var routed = baseRouter.forward(scaled, null);
        // After routing, so this batch is routed only with earlier batches' statistics.
        if (running is not null && training) UpdateRunningStatistics(x, labels, running);
        return new RouterOutput(routed.Logits.MoveToOuterDisposeScope(), routed.RoutingFeatures.MoveToOuterDisposeScope(), scaled.MoveToOuterDisposeScope());
    }

    /// <summary>Host copies of the running buffers (count [K], n·MAD [K·d]); null for the batch estimator.</summary>
    private sealed record RunningStatistics(float[] Count, float[] Deviation);

    // Each small tensor op costs about as much as a pass over the tokens here (docs/moe.md): the [K,d] statistics are
    // read once per forward, and the weights and the running update are computed from these copies on the host.
    private RunningStatistics? ReadRunningStatistics() => Estimator == AcEstimator.Running
        ? new RunningStatistics(AdaptiveClusteringWeights.HostValues(RunningCount), AdaptiveClusteringWeights.HostValues(RunningDeviation))
        : null;

    /// <summary>The previous layer's top experts [N,k] int64 and the clusters, its top-1 experts [N] (column 0: sorted).</summary>
    private static (Tensor TopIndices, Tensor Labels) Clusters(Tensor x, RoutingState previous)
    {
        if (previous.TopIndices.dim() != 2 || previous.TopIndices.shape[0] != x.shape[0])
            throw new ArgumentException($"the previous routing covers {previous.TopIndices.shape[0]} tokens, this layer has {x.shape[0]}");
        var topIndices = previous.TopIndices.dtype == ScalarType.Int64 ? previous.TopIndices : previous.TopIndices.to(ScalarType.Int64);
        return (topIndices, topIndices.select(1, 0).contiguous());
    }

    /// <summary>The per-token weights [N,d] from the cluster weights of the running statistics (or, without them, of this batch).</summary>
    private Tensor PerToken(Tensor x, RoutingState previous, Tensor topIndices, Tensor labels, RunningStatistics? running)
    {
        var weights = running is null
            ? AdaptiveClusteringWeights.Compute(x, labels, Experts, epsilon, clipMultiple, normalisation)
            : AdaptiveClusteringWeights.FromHostDeviationSums(running.Count, running.Deviation, x.device, epsilon, clipMultiple, normalisation);
        Tensor perToken;
        if (!mixTopK)
        {
            perToken = weights.index_select(0, labels);
        }
        else
        {
            // Normalised mix: with k = 1 the gate is a probability below 1 (Switch rule), not a weight of 1.
            var gates = previous.GateWeights.dtype == ScalarType.Float32 ? previous.GateWeights : previous.GateWeights.to(ScalarType.Float32);
            gates = gates / gates.sum(1, keepdim: true);
            // Each token's gate per cluster [N,K] (repeated clusters add up, as Soft MoE's top slots can share an
            // expert), times the cluster weights: one [N,K]×[K,d] matmul instead of gathering k rows of d per token.
            var mixing = torch.zeros(topIndices.shape[0], weights.shape[0], dtype: ScalarType.Float32, device: x.device).scatter_add_(1, topIndices, gates);
            perToken = mixing.matmul(weights);
        }
        return perToken.dtype == x.dtype ? perToken : perToken.to(x.dtype);
    }

    /// <summary>Folds this batch's cluster counts and summed deviations into the running averages (the first batch is copied).</summary>
    private void UpdateRunningStatistics(Tensor x, Tensor labels, RunningStatistics running)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (counts, deviationSums) = AdaptiveClusteringWeights.HostClusterDeviationSums(x, labels, Experts);
        var rate = running.Count.Sum() > 0 ? momentum : 1.0;
        var count = running.Count.Select((c, k) => (float)((1 - rate) * c + rate * counts[k])).ToArray();
        var deviation = running.Deviation.Select((v, i) => (float)((1 - rate) * v + rate * deviationSums[i])).ToArray();
        RunningCount.copy_(torch.tensor(count, device: RunningCount.device));
        RunningDeviation.copy_(torch.tensor(deviation, RunningDeviation.shape, device: RunningDeviation.device));
    }
}
