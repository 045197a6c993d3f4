using StatFormer.Options;

namespace StatFormer.Probes.AdaptiveClustering;

/// <summary>
/// The AC-router probe: two-MoE-layer models on clusters-on-feature-subsets tokens (<see cref="ClusterSubsetGenerator"/>), each
/// base router (SMoE, XMoE) against its AC version in the second layer, over noise levels of the non-informative features and seeds.
/// </summary>
public sealed record AcProbeOptions
{
    /// <summary>K, the number of clusters (and of experts).</summary>
    public int Clusters { get; init; } = 4;

    /// <summary>F, the token features (the MoE layers work on them directly, so the AC weights are per feature).</summary>
    public int Features { get; init; } = 16;

    /// <summary>Informative features per cluster.</summary>
    public int SubsetSize { get; init; } = 4;

    /// <summary>Standard deviation of a cluster along its informative features.</summary>
    public double TightSpread { get; init; } = 0.3;

    /// <summary>Standard deviations of the non-informative features, one setting each.</summary>
    public IReadOnlyList<double> NoiseLevels { get; init; } = [1.0, 3.0];

    /// <summary>The base routers compared with their AC versions (smoe, xmoe).</summary>
    public IReadOnlyList<string> Routers { get; init; } = ["smoe", "xmoe"];

    /// <summary>Experts per token.</summary>
    public int TopK { get; init; } = 2;

    /// <summary>Hidden width of each expert.</summary>
    public int ExpertHidden { get; init; } = 32;

    /// <summary>Optimizer steps per model.</summary>
    public int Steps { get; init; } = 300;

    /// <summary>Tokens per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam learning rate (constant).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Held-out tokens for the task loss and routing NMI.</summary>
    public int EvalTokens { get; init; } = 2048;

    /// <summary>Measure the held-out task loss every N steps (the loss-vs-steps curves).</summary>
    public int EvalEvery { get; init; } = 25;

    /// <summary>Seeds 0 … N−1: each seeds the problem, the initialisation (shared by a base router and its AC version) and the batches.</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Where the JSON, report and plots go.</summary>
    public string OutDir { get; init; } = Path.Combine("runs", "probe-ac");

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Clusters >= 2, nameof(Clusters), $"must be at least 2 (got {Clusters})");
        OptionCheck.Require(Features >= 2, nameof(Features), $"must be at least 2 (got {Features})");
        OptionCheck.Require(SubsetSize >= 1 && SubsetSize < Features, nameof(SubsetSize), $"must be in [1, Features) (got {SubsetSize}, Features = {Features})");
        OptionCheck.Require(TightSpread > 0 && double.IsFinite(TightSpread), nameof(TightSpread), $"must be positive (got {TightSpread})");
        OptionCheck.Require(NoiseLevels is { Count: > 0 } && NoiseLevels.All(n => n > 0 && double.IsFinite(n)), nameof(NoiseLevels), "must be one or more positive levels");
        OptionCheck.Require(Routers is { Count: > 0 } && Routers.All(r => r is "smoe" or "xmoe"), nameof(Routers), "must be smoe, xmoe or both");
        OptionCheck.Require(TopK >= 1 && TopK <= Clusters, nameof(TopK), $"must be in [1, Clusters] (got {TopK})");
        OptionCheck.Require(ExpertHidden >= 1, nameof(ExpertHidden), $"must be at least 1 (got {ExpertHidden})");
        OptionCheck.Require(Steps >= 1, nameof(Steps), $"must be at least 1 (got {Steps})");
        OptionCheck.Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1 (got {BatchSize})");
        OptionCheck.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be positive (got {LearningRate})");
        OptionCheck.Require(EvalTokens >= 1, nameof(EvalTokens), $"must be at least 1 (got {EvalTokens})");
        OptionCheck.Require(EvalEvery >= 1, nameof(EvalEvery), $"must be at least 1 (got {EvalEvery})");
        OptionCheck.Require(Seeds >= 1, nameof(Seeds), $"must be at least 1 (got {Seeds})");
        OptionCheck.Require(!string.IsNullOrWhiteSpace(OutDir), nameof(OutDir), "must not be empty");
    }
}
