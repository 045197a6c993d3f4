using StatFormer.Analysis;
using StatFormer.Contrastive;
using StatFormer.Options;
using SensitiveAttribute = StatFormer.Fairness.Data.SensitiveAttribute;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// Everything one fair contrastive run needs, one record per concern: data, model (method and encoder), loss
/// hyperparameters, optimisation, probes and output. Each field is declared (with its default) and validated once, in
/// its record; <see cref="Validate"/> reports a bad value as an <see cref="ArgumentException"/> whose ParamName is its
/// path in this tree (e.g. <c>Loss.Buckets</c>).
/// </summary>
public sealed record FairRunOptions
{
    public const string ColorMnist = "colormnist";
    public const string Adult = "adult";
    public const string Compas = "compas";
    public const string Synthetic = "synthetic";

    /// <summary>The datasets <see cref="FairDataOptions.Dataset"/> accepts.</summary>
    public static IReadOnlyList<string> DataNames { get; } = [ColorMnist, Adult, Compas, Synthetic];

    /// <summary>The dataset, its sensitive attribute, subsets and views.</summary>
    public FairDataOptions Data { get; init; } = new();

    /// <summary>The contrastive method and the encoder it trains.</summary>
    public FairModelOptions Model { get; init; } = new();

    /// <summary>Every loss hyperparameter (τ, CCLK kernel, FARE attention, SparseFARE buckets); read by the method it belongs to.</summary>
    public ContrastiveLossOptions Loss { get; init; } = new();

    /// <summary>Optimisation (the recipe: see <see cref="FairTrainOptions"/>).</summary>
    public FairTrainOptions Train { get; init; } = new();

    /// <summary>The linear probes on the frozen representation.</summary>
    public FairProbeOptions Eval { get; init; } = new();

    /// <summary>The run folder.</summary>
    public RunOutputOptions Output { get; init; } = new() { OutDir = Path.Combine("runs", "fair") };

    /// <exception cref="ArgumentException">ParamName is the path of the first offending property (e.g. <c>Loss.Buckets</c>).</exception>
    public void Validate()
    {
        OptionCheck.Nested(nameof(Data), Data.Validate);
        OptionCheck.Nested(nameof(Model), Model.Validate);
        OptionCheck.Nested(nameof(Loss), Loss.Validate);
        OptionCheck.Nested(nameof(Train), Train.Validate);
        OptionCheck.Nested(nameof(Eval), Eval.Validate);
        OptionCheck.Nested(nameof(Output), Output.Validate);
    }

    /// <summary>"sex", "race" or "sex,race" (any order, case-insensitive) as flags.</summary>
    /// <exception cref="ArgumentException">ParamName <c>Sensitive</c>.</exception>
    public static SensitiveAttribute ParseSensitive(string text)
    {
        SensitiveAttribute result = 0;
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= part.ToLowerInvariant() switch
            {
                "sex" => SensitiveAttribute.Sex,
                "race" => SensitiveAttribute.Race,
                _ => throw new ArgumentException($"'{part}' is not one of: sex, race (or both: sex,race)", nameof(FairDataOptions.Sensitive)),
            };
        }
        OptionCheck.Require(result != 0, nameof(FairDataOptions.Sensitive), "must name sex, race or sex,race");
        return result;
    }
}

/// <summary>The data of a fair contrastive run.</summary>
public sealed record FairDataOptions
{
    /// <summary>colormnist, adult, compas or synthetic (embedded generator, no files).</summary>
    public string Dataset { get; init; } = FairRunOptions.Synthetic;

    /// <summary>Folder holding one subfolder per dataset: mnist/, adult/, compas/ (relative paths are taken from the working directory).</summary>
    public string DataDir { get; init; } = Path.Combine("..", "shared", "data");

    /// <summary>Tabular data only: "sex", "race" or "sex,race" (both, as their combination). Ignored for colour and synthetic z.</summary>
    public string Sensitive { get; init; } = "sex";

    /// <summary>Seeds the data: ColorMNIST colours, the COMPAS split, the synthetic generator and the subsamples below.</summary>
    public int DataSeed { get; init; }

    /// <summary>Train on a seeded random subset of this many train samples (null: all).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Evaluate on a seeded random subset of this many test samples (null: all).</summary>
    public int? TestLimit { get; init; }

    /// <summary>Tabular views: SCARF corruption rate (fraction of features replaced per view).</summary>
    public double CorruptionRate { get; init; } = 0.3;

    /// <summary>Whether <see cref="Dataset"/> is a tabular benchmark whose z is chosen by <see cref="Sensitive"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool UsesSensitiveOption => Dataset is FairRunOptions.Adult or FairRunOptions.Compas;

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(FairRunOptions.DataNames.Contains(Dataset), nameof(Dataset), $"'{Dataset}' is not one of: {string.Join(", ", FairRunOptions.DataNames)}");
        OptionCheck.Require(!string.IsNullOrWhiteSpace(DataDir), nameof(DataDir), "must not be empty");
        if (UsesSensitiveOption) FairRunOptions.ParseSensitive(Sensitive);
        OptionCheck.Require(TrainLimit is null or >= 2, nameof(TrainLimit), $"must be at least 2 (got {TrainLimit})");
        OptionCheck.Require(TestLimit is null or >= 1, nameof(TestLimit), $"must be at least 1 (got {TestLimit})");
        OptionCheck.Require(CorruptionRate is >= 0 and <= 1, nameof(CorruptionRate), $"must be in [0, 1] (got {CorruptionRate})");
    }
}

/// <summary>The contrastive method and the encoder of a fair contrastive run (LeNet for images, an MLP for tabular data).</summary>
public sealed record FairModelOptions
{
    /// <summary>The contrastive objective.</summary>
    public ContrastiveMethod Method { get; init; } = ContrastiveMethod.Fare;

    /// <summary>Tabular encoder (MLP) hidden width.</summary>
    public int MlpHidden { get; init; } = 128;

    /// <summary>Tabular encoder (MLP) representation width: what the probes read (LeNet's is fixed at 84).</summary>
    public int MlpOutput { get; init; } = 64;

    /// <summary>Output width of the projection head (the recipe's 128).</summary>
    public int ProjectionDim { get; init; } = 128;

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Enum.IsDefined(Method), nameof(Method), $"unknown method {Method}");
        OptionCheck.Require(MlpHidden >= 1, nameof(MlpHidden), $"must be at least 1 (got {MlpHidden})");
        OptionCheck.Require(MlpOutput >= 1, nameof(MlpOutput), $"must be at least 1 (got {MlpOutput})");
        OptionCheck.Require(ProjectionDim >= 1, nameof(ProjectionDim), $"must be at least 1 (got {ProjectionDim})");
    }
}

/// <summary>
/// Optimisation of a fair contrastive run. The CCLK recipe (spec §4.3) uses LARS (eta 1e-3, momentum 0.9, weight decay 1e-4),
/// which TorchSharp lacks; we use the project's <see cref="Training.Trainer"/> instead: AdamW (β = 0.9, 0.999) at
/// <see cref="LearningRate"/> 1e-3 (the recipe's base lr at B = 256), decoupled weight decay 1e-4 on matrices only (the
/// recipe's LARS value; the SimCLR script's 1e-6 would be as good as none under AdamW), a linear warm-up then cosine decay
/// to 0 as in the recipe's CosineAnnealingWithLinearRampLR (stepped per update here, per epoch there), and no gradient
/// clipping (the recipe has none).
/// </summary>
public sealed record FairTrainOptions
{
    /// <summary>Training epochs (the CCLK recipe: 1000).</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Samples per step (the last incomplete batch of an epoch is dropped).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW decoupled weight decay (matrices only).</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Linear warm-up in epochs, capped at a tenth of the run (the recipe ramps 10 of 1000 epochs).</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Maximum global gradient norm; 0: no clipping (the recipe's setting).</summary>
    public double GradClip { get; init; }

    /// <summary>Seeds model initialisation, batch order, augmentations and LSH draws.</summary>
    public int Seed { get; init; }

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Epochs >= 1, nameof(Epochs), $"must be at least 1 (got {Epochs})");
        OptionCheck.Require(BatchSize >= 2, nameof(BatchSize), $"must be at least 2 (got {BatchSize}); a contrastive batch needs negatives");
        OptionCheck.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be positive (got {LearningRate})");
        OptionCheck.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"must not be negative (got {WeightDecay})");
        OptionCheck.Require(WarmupEpochs >= 0, nameof(WarmupEpochs), $"must not be negative (got {WarmupEpochs})");
        OptionCheck.Require(GradClip >= 0 && double.IsFinite(GradClip), nameof(GradClip), $"must not be negative (got {GradClip})");
    }
}

/// <summary>The linear probes fitted on the frozen representation of a fair contrastive run.</summary>
public sealed record FairProbeOptions
{
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

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(ProbeMaxIterations >= 1, nameof(ProbeMaxIterations), $"must be at least 1 (got {ProbeMaxIterations})");
        OptionCheck.Require(ProbeTolerance > 0 && double.IsFinite(ProbeTolerance), nameof(ProbeTolerance), $"must be positive (got {ProbeTolerance})");
        OptionCheck.Require(ProbeTrainLimit is null or >= 2, nameof(ProbeTrainLimit), $"must be at least 2 (got {ProbeTrainLimit})");
        OptionCheck.Require(ProbeL2 >= 0 && double.IsFinite(ProbeL2), nameof(ProbeL2), $"must not be negative (got {ProbeL2})");
    }
}
