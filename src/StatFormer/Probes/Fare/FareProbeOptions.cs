using StatFormer.Contrastive;
using StatFormer.Options;

namespace StatFormer.Probes.Fare;

/// <summary>
/// The FARE probe: small MLP encoders trained with each contrastive method on <see cref="LeakyAttributeGenerator"/> data; bias
/// removal (linear-probe accuracy of the group from the representation), task accuracy and FARE's attention against the ideal.
/// </summary>
public sealed record FareProbeOptions
{
    /// <summary>Task classes.</summary>
    public int Classes { get; init; } = 4;

    /// <summary>Sensitive groups (z clusters on the unit circle).</summary>
    public int Groups { get; init; } = 4;

    /// <summary>Input features (the last two carry z).</summary>
    public int Features { get; init; } = 16;

    /// <summary>Scale of the class sign patterns against unit noise.</summary>
    public double ClassScale { get; init; } = 0.5;

    /// <summary>Scale of z in the input (the leak) against unit noise.</summary>
    public double Leak { get; init; } = 3.0;

    /// <summary>Methods to compare.</summary>
    public IReadOnlyList<ContrastiveMethod> Methods { get; init; } = [ContrastiveMethod.InfoNce, ContrastiveMethod.FairInfoNce, ContrastiveMethod.Fare];

    /// <summary>Encoder hidden width.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Representation width (the probes read it).</summary>
    public int Representation { get; init; } = 8;

    /// <summary>Optimizer steps per model.</summary>
    public int Steps { get; init; } = 200;

    /// <summary>Samples per step (the batch FARE's attention runs over).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate (constant).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Contrastive temperature τ.</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary>SCARF corruption rate of the two views.</summary>
    public double CorruptionRate { get; init; } = 0.3;

    /// <summary>Training samples (the probes are fitted on them).</summary>
    public int TrainSamples { get; init; } = 2048;

    /// <summary>Test samples.</summary>
    public int TestSamples { get; init; } = 1024;

    /// <summary>Seeds 0 … N−1: each seeds the class patterns, the samples, the initialisation (shared by the methods) and the batches.</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Where the JSON, report and plots go.</summary>
    public string OutDir { get; init; } = Path.Combine("runs", "probe-fare");

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Classes >= 2, nameof(Classes), $"must be at least 2 (got {Classes})");
        OptionCheck.Require(Groups >= 2, nameof(Groups), $"must be at least 2 (got {Groups})");
        OptionCheck.Require(Features >= 3, nameof(Features), $"must be at least 3 (got {Features})");
        OptionCheck.Require(ClassScale >= 0 && double.IsFinite(ClassScale), nameof(ClassScale), $"must be ≥ 0 (got {ClassScale})");
        OptionCheck.Require(Leak >= 0 && double.IsFinite(Leak), nameof(Leak), $"must be ≥ 0 (got {Leak})");
        OptionCheck.Require(Methods is { Count: > 0 } && Methods.Distinct().Count() == Methods.Count, nameof(Methods), "must be one or more distinct methods");
        OptionCheck.Require(Hidden >= 1, nameof(Hidden), $"must be at least 1 (got {Hidden})");
        OptionCheck.Require(Representation >= 1, nameof(Representation), $"must be at least 1 (got {Representation})");
        OptionCheck.Require(Steps >= 1, nameof(Steps), $"must be at least 1 (got {Steps})");
        OptionCheck.Require(BatchSize >= 4 && BatchSize <= TrainSamples, nameof(BatchSize), $"must be in [4, TrainSamples] (got {BatchSize})");
        OptionCheck.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be positive (got {LearningRate})");
        OptionCheck.Require(Temperature > 0 && double.IsFinite(Temperature), nameof(Temperature), $"must be positive (got {Temperature})");
        OptionCheck.Require(CorruptionRate is >= 0 and < 1, nameof(CorruptionRate), $"must be in [0, 1) (got {CorruptionRate})");
        OptionCheck.Require(TrainSamples >= 8, nameof(TrainSamples), $"must be at least 8 (got {TrainSamples})");
        OptionCheck.Require(TestSamples >= 2, nameof(TestSamples), $"must be at least 2 (got {TestSamples})");
        OptionCheck.Require(Seeds >= 1, nameof(Seeds), $"must be at least 1 (got {Seeds})");
        OptionCheck.Require(!string.IsNullOrWhiteSpace(OutDir), nameof(OutDir), "must not be empty");
    }
}
