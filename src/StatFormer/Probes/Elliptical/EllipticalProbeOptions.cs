using StatFormer.Options;

namespace StatFormer.Probes.Elliptical;

/// <summary>
/// The elliptical probe: small attention stacks trained on in-context kernel regression
/// (<see cref="KernelRegressionGenerator"/>), softmax against elliptical attention in the same stack, over a sweep of
/// settings (<see cref="Settings"/>) and seeds.
/// </summary>
public sealed record EllipticalProbeOptions
{
    /// <summary>D, the key dimension.</summary>
    public int KeyDim { get; init; } = 4;

    /// <summary>(key, value) pairs per sequence (the query is one more token).</summary>
    public int Pairs { get; init; } = 32;

    /// <summary>Sweep over the number of relevant coordinates (at the first noise level, no contamination); the first is the base of the other sweeps.</summary>
    public IReadOnlyList<int> RelevantCounts { get; init; } = [1, 2];

    /// <summary>Value-noise standard deviations; the first is the base, the others are swept at the first relevant count.</summary>
    public IReadOnlyList<double> NoiseLevels { get; init; } = [0.1, 0.5];

    /// <summary>Contamination rates (share of pairs with outlier irrelevant coordinates); the first is the base, the others are swept at the base.</summary>
    public IReadOnlyList<double> Contaminations { get; init; } = [0.0, 0.2];

    /// <summary>Width of the stack.</summary>
    public int DModel { get; init; } = 32;

    /// <summary>Attention heads (one keeps m one vector per sequence).</summary>
    public int Heads { get; init; } = 1;

    /// <summary>Optimizer steps per run.</summary>
    public int Steps { get; init; } = 500;

    /// <summary>Sequences per step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam learning rate (constant).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Held-out sequences the prediction MSE is measured on (the same for both attentions).</summary>
    public int EvalSequences { get; init; } = 512;

    /// <summary>Seeds 0 … N−1: each seeds the initialisation (shared by both attentions), the training batches and the evaluation set.</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Where the JSON, report and plots go.</summary>
    public string OutDir { get; init; } = Path.Combine("runs", "probe-elliptical");

    /// <summary>The settings in run order: the relevant-count sweep, then the noise sweep, then the contamination sweep.</summary>
    public IReadOnlyList<KernelRegressionSetting> Settings()
    {
        var (relevant, noise, contamination) = (RelevantCounts[0], NoiseLevels[0], Contaminations[0]);
        var settings = RelevantCounts.Select(r => new KernelRegressionSetting("relevant", r, noise, contamination)).ToList();
        settings.AddRange(NoiseLevels.Skip(1).Select(n => new KernelRegressionSetting("noise", relevant, n, contamination)));
        settings.AddRange(Contaminations.Skip(1).Select(c => new KernelRegressionSetting("contamination", relevant, noise, c)));
        return settings;
    }

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(KeyDim >= 2, nameof(KeyDim), $"must be at least 2 (got {KeyDim})");
        OptionCheck.Require(Pairs >= 2, nameof(Pairs), $"must be at least 2 (got {Pairs})");
        OptionCheck.Require(RelevantCounts is { Count: > 0 } && RelevantCounts.All(r => r >= 1 && r <= KeyDim), nameof(RelevantCounts),
            $"must be one or more counts in [1, KeyDim = {KeyDim}]");
        OptionCheck.Require(NoiseLevels is { Count: > 0 } && NoiseLevels.All(n => n >= 0 && double.IsFinite(n)), nameof(NoiseLevels), "must be one or more finite levels ≥ 0");
        OptionCheck.Require(Contaminations is { Count: > 0 } && Contaminations.All(c => c is >= 0 and <= 1), nameof(Contaminations), "must be one or more rates in [0, 1]");
        OptionCheck.Require(DModel >= 1, nameof(DModel), $"must be at least 1 (got {DModel})");
        OptionCheck.Require(Heads >= 1 && DModel % Heads == 0, nameof(Heads), $"DModel ({DModel}) must be a positive multiple of Heads ({Heads})");
        OptionCheck.Require(Steps >= 1, nameof(Steps), $"must be at least 1 (got {Steps})");
        OptionCheck.Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1 (got {BatchSize})");
        OptionCheck.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be positive (got {LearningRate})");
        OptionCheck.Require(EvalSequences >= 1, nameof(EvalSequences), $"must be at least 1 (got {EvalSequences})");
        OptionCheck.Require(Seeds >= 1, nameof(Seeds), $"must be at least 1 (got {Seeds})");
        OptionCheck.Require(!string.IsNullOrWhiteSpace(OutDir), nameof(OutDir), "must not be empty");
    }
}

/// <summary>One generator setting of the sweep; <paramref name="Sweep"/> names the sweep it belongs to (relevant, noise, contamination).</summary>
public sealed record KernelRegressionSetting(string Sweep, int Relevant, double Noise, double Contamination);
