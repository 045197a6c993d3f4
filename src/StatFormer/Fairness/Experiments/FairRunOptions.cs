using StatFormer.Options;
using SensitiveAttribute = StatFormer.Fairness.Data.SensitiveAttribute;
using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Fairness.Data;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// Everything one fair contrastive run needs: data, method and loss hyperparameters, optimisation, probes, output.
/// <para>
/// Optimiser: the CCLK recipe (spec §4.3) uses LARS (eta 1e-3, momentum 0.9, weight decay 1e-4), which TorchSharp lacks;
/// we use the project's <see cref="Training.Trainer"/> instead: AdamW (β = 0.9, 0.999) at <see cref="LearningRate"/> 1e-3
/// (the recipe's base lr at B = 256), decoupled weight decay 1e-4 on matrices only (the recipe's LARS value; the SimCLR
/// script's 1e-6 would be as good as none under AdamW), a linear warm-up then cosine decay to 0 as in the recipe's
/// CosineAnnealingWithLinearRampLR (stepped per update here, per epoch there), and no gradient clipping (the recipe has none).
/// </para>
/// </summary>
public sealed record FairRunOptions
{
    public const string ColorMnist = "colormnist";
    public const string Adult = "adult";
    public const string Compas = "compas";
    public const string Synthetic = "synthetic";

    /// <summary>The datasets <see cref="Data"/> accepts.</summary>
    public static IReadOnlyList<string> DataNames { get; } = [ColorMnist, Adult, Compas, Synthetic];

    /// <summary>colormnist, adult, compas or synthetic (embedded generator, no files).</summary>
    public string Data { get; init; } = Synthetic;

    /// <summary>Folder holding one subfolder per dataset: mnist/, adult/, compas/ (relative paths are taken from the working directory).</summary>
    public string DataDir { get; init; } = Path.Combine("..", "shared", "data");

    /// <summary>Tabular data only: "sex", "race" or "sex,race" (both, as their combination). Ignored for colour and synthetic z.</summary>
    public string Sensitive { get; init; } = "sex";

    public ContrastiveMethod Method { get; init; } = ContrastiveMethod.Fare;

    /// <summary>Every loss hyperparameter (τ, CCLK kernel, FARE attention, SparseFARE buckets); read by the method it belongs to.</summary>
    public ContrastiveLossOptions Loss { get; init; } = new();

    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Linear warm-up in epochs, capped at a tenth of the run (the recipe ramps 10 of 1000 epochs).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Maximum global gradient norm; 0: no clipping (the recipe's setting).</summary>
    public double GradClip { get; init; }

    /// <summary>Seeds model initialisation, batch order, augmentations and LSH draws.</summary>
    public int Seed { get; init; }

    /// <summary>Seeds the data: ColorMNIST colours, the COMPAS split, the synthetic generator and the subsamples below.</summary>
    public int DataSeed { get; init; }

    /// <summary>Train on a seeded random subset of this many train samples (null: all).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Evaluate on a seeded random subset of this many test samples (null: all).</summary>
    public int? TestLimit { get; init; }

    /// <summary>
    /// Iteration cap of the L-BFGS classifier probes. They stop when the convergence criterion holds (see
    /// <see cref="ProbeTolerance"/>), not after a fixed budget like the CCLK evaluation's 500 iterations; a probe that hits
    /// the cap is reported as not converged in summary.json and the report.
    /// </summary>
    public int ProbeMaxIterations { get; init; } = LinearProbe.DefaultMaxIterations;

    /// <summary>Probe convergence criterion: ‖∇f‖₂ ≤ this · ‖∇f(0)‖₂ for the probe objective f (see <see cref="LinearProbe"/>).</summary>
    public double ProbeTolerance { get; init; } = LinearProbe.DefaultTolerance;

    /// <summary>
    /// Train samples the probes are fitted on: a data-seeded subset of the (limited) train split, or null (the default):
    /// all of it, as in the CCLK evaluation. Converged probes make the whole split cheap (ColorMNIST, one thread: 7.5–15 s
    /// per run for embedding and both probes on 60 000 images; the former 500-iteration probes on 10 000 took 5–11 s).
    /// </summary>
    public int? ProbeTrainLimit { get; init; }

    /// <summary>L2 penalty of the probes (the CCLK evaluation's 1e-6).</summary>
    public double ProbeL2 { get; init; } = LinearProbe.DefaultL2;

    /// <summary>Tabular views: SCARF corruption rate (fraction of features replaced per view).</summary>
    public double CorruptionRate { get; init; } = 0.3;

    /// <summary>Tabular encoder (MLP) hidden width.</summary>
    public int MlpHidden { get; init; } = 128;

    /// <summary>Tabular encoder (MLP) representation width: what the probes read (LeNet's is fixed at 84).</summary>
    public int MlpOutput { get; init; } = 64;

    /// <summary>Output width of the projection head (the recipe's 128).</summary>
    public int ProjectionDim { get; init; } = 128;

    public string OutDir { get; init; } = Path.Combine("runs", "fair");

    /// <summary>Continue from the checkpoint in <see cref="OutDir"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>Replace the run in <see cref="OutDir"/>: its files are deleted before training starts (recorded as false).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Whether <see cref="Data"/> is a tabular benchmark whose z is chosen by <see cref="Sensitive"/>.</summary>
    public bool UsesSensitiveOption => Data is Adult or Compas;

    /// <exception cref="ArgumentException">ParamName is the path of the first offending property (e.g. <c>Loss.Buckets</c>).</exception>
    public void Validate()
    {
        OptionCheck.Require(DataNames.Contains(Data), nameof(Data), $"'{Data}' is not one of: {string.Join(", ", DataNames)}");
        OptionCheck.Require(!string.IsNullOrWhiteSpace(DataDir), nameof(DataDir), "must not be empty");
        if (UsesSensitiveOption) ParseSensitive(Sensitive);
        OptionCheck.Require(Enum.IsDefined(Method), nameof(Method), $"unknown method {Method}");
        OptionCheck.Require(Epochs >= 1, nameof(Epochs), $"must be at least 1 (got {Epochs})");
        OptionCheck.Require(BatchSize >= 2, nameof(BatchSize), $"must be at least 2 (got {BatchSize}); a contrastive batch needs negatives");
        OptionCheck.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be positive (got {LearningRate})");
        OptionCheck.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"must not be negative (got {WeightDecay})");
        OptionCheck.Require(WarmupEpochs >= 0, nameof(WarmupEpochs), $"must not be negative (got {WarmupEpochs})");
        OptionCheck.Require(GradClip >= 0 && double.IsFinite(GradClip), nameof(GradClip), $"must not be negative (got {GradClip})");
        OptionCheck.Require(TrainLimit is null or >= 2, nameof(TrainLimit), $"must be at least 2 (got {TrainLimit})");
        OptionCheck.Require(TestLimit is null or >= 1, nameof(TestLimit), $"must be at least 1 (got {TestLimit})");
        OptionCheck.Require(ProbeMaxIterations >= 1, nameof(ProbeMaxIterations), $"must be at least 1 (got {ProbeMaxIterations})");
        OptionCheck.Require(ProbeTolerance > 0 && double.IsFinite(ProbeTolerance), nameof(ProbeTolerance), $"must be positive (got {ProbeTolerance})");
        OptionCheck.Require(ProbeTrainLimit is null or >= 2, nameof(ProbeTrainLimit), $"must be at least 2 (got {ProbeTrainLimit})");
        OptionCheck.Require(ProbeL2 >= 0 && double.IsFinite(ProbeL2), nameof(ProbeL2), $"must not be negative (got {ProbeL2})");
        OptionCheck.Require(CorruptionRate is >= 0 and <= 1, nameof(CorruptionRate), $"must be in [0, 1] (got {CorruptionRate})");
        OptionCheck.Require(MlpHidden >= 1, nameof(MlpHidden), $"must be at least 1 (got {MlpHidden})");
        OptionCheck.Require(MlpOutput >= 1, nameof(MlpOutput), $"must be at least 1 (got {MlpOutput})");
        OptionCheck.Require(ProjectionDim >= 1, nameof(ProjectionDim), $"must be at least 1 (got {ProjectionDim})");
        OptionCheck.Require(!string.IsNullOrWhiteSpace(OutDir), nameof(OutDir), "must not be empty");
        OptionCheck.Require(!(Resume && Overwrite), nameof(Overwrite), "excludes Resume: Resume continues the run in OutDir, Overwrite replaces it");
        OptionCheck.Nested(nameof(Loss), Loss.Validate);
    }

    /// <summary>"sex", "race" or "sex,race" (any order, case-insensitive) as flags.</summary>
    public static SensitiveAttribute ParseSensitive(string text)
    {
        SensitiveAttribute result = 0;
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= part.ToLowerInvariant() switch
            {
                "sex" => SensitiveAttribute.Sex,
                "race" => SensitiveAttribute.Race,
                _ => throw new ArgumentException($"'{part}' is not one of: sex, race (or both: sex,race)", nameof(Sensitive)),
            };
        }
        OptionCheck.Require(result != 0, nameof(Sensitive), "must name sex, race or sex,race");
        return result;
    }
}
