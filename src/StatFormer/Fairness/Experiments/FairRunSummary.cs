using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using StatFormer.Analysis;
using StatFormer.Contrastive;

namespace StatFormer.Fairness.Experiments;

/// <summary>
/// The result of one fair contrastive run, written as summary.json in its output folder. Accuracies and gaps are in
/// percent (0–100), like the paper's tables. Metrics that do not apply to the dataset are null.
/// </summary>
public sealed record FairRunSummary
{
    /// <summary>CLI name of the method (infonce, fair-infonce, cclk, fare, sparse-fare).</summary>
    public required string Method { get; init; }
    public required string Data { get; init; }
    /// <summary>What z is: "background_rgb" (ColorMNIST), "z_disc" (synthetic), or the tabular attribute(s) "sex", "race", "sex,race".</summary>
    public required string Sensitive { get; init; }
    public required int Seed { get; init; }
    public required int DataSeed { get; init; }
    public required int Epochs { get; init; }
    public required long Steps { get; init; }
    public required long Params { get; init; }
    public required int TrainCount { get; init; }
    public required int TestCount { get; init; }
    public required int ProbeTrainCount { get; init; }
    public required int RepresentationDim { get; init; }

    /// <summary>Mean training loss of the last epoch (the run is reported at its final epoch, spec §7 Q10).</summary>
    public required double FinalTrainLoss { get; init; }
    /// <summary>Mean training loss of every epoch, in order.</summary>
    public required IReadOnlyList<double> EpochTrainLoss { get; init; }

    /// <summary>Test accuracy (%) of the linear probe for the target on the frozen representation.</summary>
    public required double TargetAccuracy { get; init; }

    /// <summary>Continuous z: test MSE of the linear probe for z on its raw scale (0–255 RGB for ColorMNIST), mean over z's columns. Higher = more of z removed.</summary>
    public double? ZMse { get; init; }
    /// <summary>Continuous z: the MSE of always predicting the train mean of z (the ceiling of <see cref="ZMse"/> for a probe that learned nothing).</summary>
    public double? ZMseOfMean { get; init; }

    /// <summary>Categorical z: test accuracy (%) of the linear probe for the group id.</summary>
    public double? ZProbeAccuracy { get; init; }
    /// <summary>Categorical z: test share (%) of the most frequent train group (the accuracy of a probe that learned nothing).</summary>
    public double? ZMajorityRate { get; init; }

    /// <summary>Binary target: equalized-odds gap (FSCL form, mean over y and group pairs, ×100) of the target probe's test predictions. Lower = fairer.</summary>
    public double? EqualizedOdds { get; init; }
    /// <summary>Binary target: Hardt's max over group pairs of max(|ΔTPR|, |ΔFPR|), ×100.</summary>
    public double? EqualizedOddsMax { get; init; }
    /// <summary>Binary target: max − min over groups of P(ŷ = 1 | group), ×100.</summary>
    public double? DemographicParity { get; init; }

    /// <summary>
    /// How the target probe's fit ended: solver, iterations, converged (the criterion ‖∇f‖₂ ≤ tolerance·‖∇f(0)‖₂ held),
    /// final gradient norm, last loss change. Null only in summaries written before probes reported it.
    /// </summary>
    public ProbeFit? TargetProbeFit { get; init; }
    /// <summary>The same for the z probe (the regressor's exact solve for continuous z, a classifier for categorical z).</summary>
    public ProbeFit? ZProbeFit { get; init; }

    /// <summary>FARE and SparseFARE: what the trained attention over z does on a test batch (spec §7 Q8).</summary>
    public FareAttentionDiagnostics? Attention { get; init; }

    /// <summary>Whole run: data preparation, training, probes and files.</summary>
    public required double WallSeconds { get; init; }
    /// <summary>Training in this session (0 when a finished run was only re-evaluated).</summary>
    public required double TrainSeconds { get; init; }
    /// <summary>Embedding the probe and test samples and fitting the probes.</summary>
    public required double EvalSeconds { get; init; }
    public required double SamplesPerSecond { get; init; }
    /// <summary>The options the run was trained with (Resume and Overwrite recorded as false); summaries of the previous build, flat, are read too.</summary>
    [JsonConverter(typeof(FlatFairRunOptionsReader))]
    public required FairRunOptions Options { get; init; }
}

/// <summary>
/// Reads <see cref="FairRunOptions"/> as written now (the nested tree) or as the previous build wrote it (one flat object,
/// "data" a string), so that `fair compare --resume` still reuses the finished runs of a folder written before the tree.
/// </summary>
internal sealed class FlatFairRunOptionsReader : JsonConverter<FairRunOptions>
{
    // Flat key of the previous build → its group in the tree (and its name there, where it changed).
    private static readonly Dictionary<string, (string Group, string Key)> FlatKeys = new()
    {
        ["data"] = ("data", "dataset"), ["data_dir"] = ("data", "data_dir"), ["sensitive"] = ("data", "sensitive"), ["data_seed"] = ("data", "data_seed"),
        ["train_limit"] = ("data", "train_limit"), ["test_limit"] = ("data", "test_limit"), ["corruption_rate"] = ("data", "corruption_rate"),
        ["method"] = ("model", "method"), ["mlp_hidden"] = ("model", "mlp_hidden"), ["mlp_output"] = ("model", "mlp_output"), ["projection_dim"] = ("model", "projection_dim"),
        ["epochs"] = ("train", "epochs"), ["batch_size"] = ("train", "batch_size"), ["learning_rate"] = ("train", "learning_rate"), ["weight_decay"] = ("train", "weight_decay"),
        ["warmup_epochs"] = ("train", "warmup_epochs"), ["grad_clip"] = ("train", "grad_clip"), ["seed"] = ("train", "seed"),
        ["probe_max_iterations"] = ("eval", "probe_max_iterations"), ["probe_tolerance"] = ("eval", "probe_tolerance"),
        ["probe_train_limit"] = ("eval", "probe_train_limit"), ["probe_l2"] = ("eval", "probe_l2"),
        ["out_dir"] = ("output", "out_dir"), ["resume"] = ("output", "resume"), ["overwrite"] = ("output", "overwrite"),
    };

    public override FairRunOptions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var node = JsonNode.Parse(ref reader) as JsonObject ?? throw new JsonException("run options must be a JSON object");
        if (node["data"] is JsonValue)
        {
            var tree = new JsonObject();
            foreach (var (key, value) in node.ToList())
            {
                if (key == "loss") tree["loss"] = value?.DeepClone();
                else if (FlatKeys.TryGetValue(key, out var to))
                    ((JsonObject)(tree[to.Group] ??= new JsonObject()))[to.Key] = value?.DeepClone();
            }
            node = tree;
        }
        return node.Deserialize<FairRunOptions>(options) ?? throw new JsonException("empty run options");
    }

    public override void Write(Utf8JsonWriter writer, FairRunOptions value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, options);
}
