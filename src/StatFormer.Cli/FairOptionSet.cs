using StatFormer.Options;
using System.CommandLine;
using StatFormer.Contrastive;
using StatFormer.Fairness.Experiments;

namespace StatFormer.Cli;

/// <summary>The options shared by `fair train` and `fair compare`, and their mapping to <see cref="FairRunOptions"/>.</summary>
public sealed class FairOptionSet
{
    private static readonly FairRunOptions Defaults = new();
    private static readonly ContrastiveLossOptions LossDefaults = new();

    public Option<string> Data { get; } = RunOptionSet.Choice("--data", "Dataset: ColorMNIST (images, z = background RGB), UCI Adult or COMPAS (tabular, z = --sensitive), or the embedded synthetic data (no files).",
        Defaults.Data, FairRunOptions.DataNames.ToArray());
    public Option<string> DataDir { get; } = new("--data-dir") { Description = "Folder with the dataset subfolders mnist/, adult/, compas/.", DefaultValueFactory = _ => Defaults.DataDir };
    public Option<string> Sensitive { get; } = new("--sensitive") { Description = "Adult/COMPAS: the protected attribute(s) z: sex, race or sex,race.", DefaultValueFactory = _ => Defaults.Sensitive };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Training epochs (the CCLK recipe: 1000).", DefaultValueFactory = _ => Defaults.Epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Samples per step (the last incomplete batch of an epoch is dropped).", DefaultValueFactory = _ => Defaults.BatchSize };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "Peak learning rate (AdamW; linear warm-up, cosine decay to 0).", DefaultValueFactory = _ => Defaults.LearningRate };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "AdamW decoupled weight decay (matrices only).", DefaultValueFactory = _ => Defaults.WeightDecay };
    public Option<int> WarmupEpochs { get; } = new("--warmup-epochs") { Description = "Warm-up epochs (capped at 10% of the run).", DefaultValueFactory = _ => Defaults.WarmupEpochs };
    public Option<double> Temperature { get; } = new("--temperature") { Description = "τ of the contrastive score cos/τ.", DefaultValueFactory = _ => LossDefaults.Temperature };
    public Option<string> Kernel { get; } = Choice(["--kernel", "--cclk-kernel"], "CCLK kernel on z.", Name(LossDefaults.Kernel), "cosine", "rbf", "linear", "polynomial", "laplacian");
    public Option<double> Lambda { get; } = new("--lambda", "--cclk-lambda") { Description = "CCLK λ of (K_Z + λI)⁻¹K_Z.", DefaultValueFactory = _ => LossDefaults.Lambda };
    public Option<double> KernelTemperature { get; } = new("--kernel-temperature", "--cclk-kernel-temperature") { Description = "CCLK temp_z of the RBF, linear, polynomial and Laplacian kernels.", DefaultValueFactory = _ => LossDefaults.KernelTemperature };
    public Option<double> AttentionTemperature { get; } = new("--attention-temperature") { Description = "FARE ρ dividing the attention logits (0: √d_k).", DefaultValueFactory = _ => LossDefaults.AttentionTemperature };
    public Option<int> AttentionDim { get; } = new("--attention-dim") { Description = "FARE d_k of W_Q, W_K (0: d_z, identity start).", DefaultValueFactory = _ => LossDefaults.AttentionDim };
    public Option<bool> IncludePositive { get; } = new("--include-positive") { Description = "FARE: let the attention include j = i (Eq. 12 literally)." };
    public Option<string> NegativeScale { get; } = RunOptionSet.Choice("--negative-scale", "FARE c_neg: batch (B − 1, CCLK-consistent) or one (literal Eq. 13).", "batch", "batch", "one");
    public Option<bool> NoNormalizeSensitive { get; } = new("--no-normalize-sensitive") { Description = "FARE: do not L2-normalise z before W_Q/W_K and LSH." };
    public Option<bool> SameViewNegatives { get; } = new("--same-view-negatives") { Description = "FARE: add attention-weighted same-view negatives (CCLK code's Kxx term)." };
    public Option<int> Buckets { get; } = new("--buckets") { Description = "SparseFARE LSH buckets (even, ≥ 2).", DefaultValueFactory = _ => LossDefaults.Buckets };
    public Option<string> SparseVariant { get; } = RunOptionSet.Choice("--sparse-variant", "SparseFARE support: adjacent (own + previous chunk of the bucket-sorted batch, Reformer) or within (same bucket).", "adjacent", "adjacent", "within");
    public Option<int> ChunkSize { get; } = new("--chunk-size") { Description = "SparseFARE chunk length.", DefaultValueFactory = _ => LossDefaults.ChunkSize };
    public Option<string> SparseImpl { get; } = Choice(["--sparse-impl", "--sparse-implementation"], "SparseFARE implementation: sort (sort-and-chunk) or dense (masked B×B reference).", "sort", "sort", "dense");
    public Option<int?> TrainLimit { get; } = new("--train-limit") { Description = "Train on a data-seeded subset of this many train samples (default: all)." };
    public Option<int?> TestLimit { get; } = new("--test-limit") { Description = "Evaluate on a data-seeded subset of this many test samples (default: all)." };
    public Option<int> ProbeMaxIterations { get; } = new("--probe-max-iterations", "--probe-steps") { Description = "Iteration cap of the L-BFGS classifier probes (they stop at convergence; hitting the cap is reported).", DefaultValueFactory = _ => Defaults.ProbeMaxIterations };
    public Option<double> ProbeTolerance { get; } = new("--probe-tolerance") { Description = "Probe convergence criterion: final gradient norm ≤ this × the gradient norm at the zero start.", DefaultValueFactory = _ => Defaults.ProbeTolerance };
    public Option<int?> ProbeTrainLimit { get; } = new("--probe-train-limit") { Description = "Fit the probes on a data-seeded subset of this many train samples (default and 0: all)." };
    public Option<double> Corruption { get; } = new("--corruption") { Description = "Tabular views: SCARF corruption rate (share of features replaced per view).", DefaultValueFactory = _ => Defaults.CorruptionRate };
    public Option<int> MlpHidden { get; } = new("--mlp-hidden") { Description = "Tabular encoder (MLP) hidden width.", DefaultValueFactory = _ => Defaults.MlpHidden };
    public Option<int> MlpOutput { get; } = new("--mlp-output") { Description = "Tabular encoder (MLP) representation width (LeNet's is 84).", DefaultValueFactory = _ => Defaults.MlpOutput };
    public Option<int> ProjectionDim { get; } = new("--projection-dim") { Description = "Projection head output width.", DefaultValueFactory = _ => Defaults.ProjectionDim };
    public Option<int> DataSeed { get; } = new("--data-seed") { Description = "Seed of the data: colours, COMPAS split, synthetic generator, subsets.", DefaultValueFactory = _ => Defaults.DataSeed };
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue from the checkpoint in --out (finished runs are reused)." };
    public Option<bool> Overwrite { get; } = new("--overwrite") { Description = "Replace the run already in --out: its files are deleted first. Without --resume or --overwrite, an --out that holds a run is refused." };
    public Option<bool> Json { get; } = new("--json") { Description = "Print the result as JSON on stdout instead of a table." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Data, DataDir, Sensitive, Epochs, BatchSize, LearningRate, WeightDecay, WarmupEpochs, Temperature, Kernel,
                     Lambda, KernelTemperature, AttentionTemperature, AttentionDim, IncludePositive, NegativeScale, NoNormalizeSensitive, SameViewNegatives,
                     Buckets, SparseVariant, ChunkSize, SparseImpl, TrainLimit, TestLimit, ProbeMaxIterations, ProbeTolerance, ProbeTrainLimit, Corruption, MlpHidden, MlpOutput, ProjectionDim, DataSeed, Resume, Overwrite, Json })
            command.Options.Add(option);
    }

    /// <summary>Builds run options from the command line; <paramref name="baseline"/> supplies the values of options the user did not give.</summary>
    public FairRunOptions Read(ParseResult result, FairRunOptions? baseline = null)
    {
        var b = baseline ?? Defaults;
        var l = b.Loss;
        bool Given(Option option) => result.GetResult(option) is { Implicit: false };
        T Get<T>(Option<T> option, T fallback) => Given(option) ? result.GetValue(option)! : fallback;
        T? GetNullable<T>(Option<T?> option, T? fallback) where T : struct => Given(option) ? result.GetValue(option) : fallback;
        var probeTrainLimit = GetNullable(ProbeTrainLimit, b.ProbeTrainLimit);
        var options = b with
        {
            Data = Get(Data, b.Data), DataDir = Get(DataDir, b.DataDir), Sensitive = Get(Sensitive, b.Sensitive),
            Epochs = Get(Epochs, b.Epochs), BatchSize = Get(BatchSize, b.BatchSize), LearningRate = Get(LearningRate, b.LearningRate),
            WeightDecay = Get(WeightDecay, b.WeightDecay), WarmupEpochs = Get(WarmupEpochs, b.WarmupEpochs),
            TrainLimit = GetNullable(TrainLimit, b.TrainLimit), TestLimit = GetNullable(TestLimit, b.TestLimit),
            ProbeMaxIterations = Get(ProbeMaxIterations, b.ProbeMaxIterations), ProbeTolerance = Get(ProbeTolerance, b.ProbeTolerance), ProbeTrainLimit = probeTrainLimit == 0 ? null : probeTrainLimit,
            CorruptionRate = Get(Corruption, b.CorruptionRate), MlpHidden = Get(MlpHidden, b.MlpHidden), MlpOutput = Get(MlpOutput, b.MlpOutput),
            ProjectionDim = Get(ProjectionDim, b.ProjectionDim), DataSeed = Get(DataSeed, b.DataSeed), Resume = Get(Resume, b.Resume), Overwrite = Get(Overwrite, b.Overwrite),
            Loss = l with
            {
                Temperature = Get(Temperature, l.Temperature),
                Kernel = Given(Kernel) ? Enum.Parse<CclkKernel>(result.GetValue(Kernel)!, ignoreCase: true) : l.Kernel,
                Lambda = Get(Lambda, l.Lambda), KernelTemperature = Get(KernelTemperature, l.KernelTemperature),
                AttentionTemperature = Get(AttentionTemperature, l.AttentionTemperature), AttentionDim = Get(AttentionDim, l.AttentionDim),
                IncludePositive = Get(IncludePositive, l.IncludePositive),
                NegativeScale = Given(NegativeScale) ? (result.GetValue(NegativeScale) == "one" ? FareNegativeScale.One : FareNegativeScale.BatchMinusOne) : l.NegativeScale,
                NormalizeSensitive = Given(NoNormalizeSensitive) ? !result.GetValue(NoNormalizeSensitive) : l.NormalizeSensitive,
                SameViewNegatives = Get(SameViewNegatives, l.SameViewNegatives),
                Buckets = Get(Buckets, l.Buckets),
                Variant = Given(SparseVariant) ? (result.GetValue(SparseVariant) == "within" ? SparseFareVariant.WithinBucket : SparseFareVariant.AdjacentChunk) : l.Variant,
                ChunkSize = Get(ChunkSize, l.ChunkSize),
                Implementation = Given(SparseImpl) ? (result.GetValue(SparseImpl) == "dense" ? SparseFareImplementation.DenseMasked : SparseFareImplementation.SortAndChunk) : l.Implementation,
            },
        };
        if (GetNullable(ProbeTrainLimit, null) is < 0) throw new UserInputException($"--probe-train-limit must be 0 (all) or at least 2 (got {result.GetValue(ProbeTrainLimit)})");
        options.Validate();
        return options;
    }

    /// <summary>Comma-separated method names (infonce, fair-infonce, cclk, fare, sparse-fare).</summary>
    public static IReadOnlyList<ContrastiveMethod> ParseMethods(string text, string optionName = "--methods")
    {
        var methods = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => EnumNames.Parse<ContrastiveMethod>(name, optionName)).ToList();
        if (methods.Count == 0) throw new UserInputException($"{optionName} must name at least one of: {string.Join(", ", EnumNames.CliNames<ContrastiveMethod>())}");
        if (methods.Distinct().Count() != methods.Count) throw new UserInputException($"{optionName} names a method twice");
        return methods;
    }

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static Option<string> Choice(string[] names, string description, string defaultValue, params string[] values)
    {
        var option = new Option<string>(names[0], names[1..]) { Description = description + $" One of: {string.Join(", ", values)}.", DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
