using StatFormer.Options;
using System.Text.Json.Serialization;
using System.Text.Json;
using StatFormer.Attention;
using StatFormer.Moe;

namespace StatFormer.Language.Models;

/// <summary>Everything needed to rebuild a <see cref="TransformerLm"/>; stored in checkpoints and run summaries.</summary>
public sealed record LmConfig
{
    public int VocabSize { get; init; }
    public int Layers { get; init; } = 4;
    public int DModel { get; init; } = 128;
    public int Heads { get; init; } = 4;
    /// <summary>Context length: the learned position table has this many rows.</summary>
    public int SeqLen { get; init; } = 128;
    public double Dropout { get; init; } = 0.1;
    /// <summary>Hidden width of the feed-forward block as a multiple of d_model.</summary>
    public int FfnMultiplier { get; init; } = 4;
    public AttentionKind Attention { get; init; } = AttentionKind.Softmax;
    public EllipticalEstimator Estimator { get; init; } = EllipticalEstimator.Causal;
    /// <summary>The authors' LM variant: no 1/√D in elliptical layers.</summary>
    public bool EllipticalUnscaled { get; init; }
    /// <summary>Which layers use the elliptical metric; null means all but the first (layer 0 has no previous values).</summary>
    public IReadOnlyList<int>? EllipticalLayers { get; init; }

    /// <summary>Mixture-of-Experts feed-forward layers: None keeps the dense FFN; otherwise the router the MoE layers use.</summary>
    public MoeKind Moe { get; init; } = MoeKind.None;
    public int Experts { get; init; } = 8;
    public int TopK { get; init; } = 2;
    /// <summary>1: an MoE layer in every block (Switch layout); 2: in blocks 0, 2, 4… with dense FFNs between them (GLaM layout).</summary>
    public int MoeEvery { get; init; } = 1;
    /// <summary>Weight of the Switch load-balancing loss, summed over MoE layers and added to the training loss.</summary>
    public double BalanceWeight { get; init; } = 0.01;
    /// <summary>Expert capacity as a multiple of the mean load; 0 = unlimited (no token is dropped).</summary>
    public double CapacityFactor { get; init; }
    /// <summary>How many of the first MoE layers use the base router: the AC router needs a previous MoE layer's routing (the authors use 2).</summary>
    public int AcBaseLayers { get; init; } = 1;
    /// <summary>AC option: mix the previous top-k clusters' weights by their gate scores instead of using the top-1 cluster's.</summary>
    public bool AcMixTopK { get; init; }
    /// <summary>Where the AC cluster spreads come from: running statistics of past batches (causal, default) or the current batch (the authors' rule; leaks future tokens).</summary>
    public AcEstimator AcEstimator { get; init; } = AcEstimator.Running;
    /// <summary>XMoE routing dimension (the low-dimensional projection the cosine router scores in).</summary>
    public int XmoeDim { get; init; } = 8;
    /// <summary>Hidden width of each expert; null: FfnMultiplier·DModel / TopK, so a token's active FFN parameters match the dense model's.</summary>
    public int? ExpertHidden { get; init; }

    /// <summary>The blocks whose feed-forward layer is an MoE layer under this configuration.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> MoeLayers =>
        Moe == MoeKind.None ? Array.Empty<int>() : Enumerable.Range(0, Layers).Where(l => l % MoeEvery == 0).ToArray();

    /// <summary>The router kind of each MoE layer, in order: AC kinds fall back to their base router on the first <see cref="AcBaseLayers"/> MoE layers.</summary>
    [JsonIgnore]
    public IReadOnlyList<MoeKind> MoeLayerKinds =>
        MoeLayers.Select((_, i) => MoeKindNames.IsAdaptive(Moe) && i < AcBaseLayers ? MoeKindNames.BaseOf(Moe) : Moe).ToArray();

    [JsonIgnore]
    public int EffectiveExpertHidden => ExpertHidden ?? Math.Max(1, FfnMultiplier * DModel / Math.Max(1, TopK));

    /// <summary>The options every MoE layer of this model is built with.</summary>
    public MoeOptions ToMoeOptions() => new()
    {
        Experts = Experts,
        TopK = TopK,
        ExpertHidden = EffectiveExpertHidden,
        Dropout = Dropout,
        CapacityFactor = CapacityFactor,
        XmoeDim = XmoeDim,
        AcMixTopK = AcMixTopK,
        AcEstimator = AcEstimator,
    };

    /// <summary>The layers that actually use the elliptical metric under this configuration.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EffectiveEllipticalLayers =>
        Attention != AttentionKind.Elliptical ? Array.Empty<int>()
        : EllipticalLayers ?? Enumerable.Range(1, Math.Max(0, Layers - 1)).ToArray();

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate()
    {
        if (VocabSize < 2) throw new ArgumentException($"vocabulary size must be at least 2 (got {VocabSize})");
        if (Layers < 1) throw new ArgumentException($"--layers must be at least 1 (got {Layers})");
        if (Heads < 1 || DModel < 1 || DModel % Heads != 0)
            throw new ArgumentException($"--d-model ({DModel}) must be a positive multiple of --heads ({Heads})");
        if (SeqLen < 1) throw new ArgumentException($"--seq-len must be at least 1 (got {SeqLen})");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"--dropout must be in [0, 1) (got {Dropout})");
        if (FfnMultiplier < 1) throw new ArgumentException($"FFN multiplier must be at least 1 (got {FfnMultiplier})");
        ValidateMoe();
        foreach (var layer in EllipticalLayers ?? Array.Empty<int>())
        {
            if (layer < 0 || layer >= Layers)
                throw new ArgumentException($"elliptical layer {layer} does not exist (the model has layers 0..{Layers - 1})");
            if (layer == 0)
                throw new ArgumentException("layer 0 cannot be elliptical: it has no previous layer's values to estimate the metric from");
        }
    }

    private void ValidateMoe()
    {
        if (Moe == MoeKind.None) return;
        if (MoeEvery is not (1 or 2)) throw new ArgumentException($"--moe-every must be 1 (Switch: every block) or 2 (GLaM: every other block) (got {MoeEvery})");
        if (BalanceWeight < 0 || !double.IsFinite(BalanceWeight)) throw new ArgumentException($"--balance-weight must be a finite number ≥ 0 (got {BalanceWeight})");
        if (ExpertHidden is < 1) throw new ArgumentException($"expert hidden width must be at least 1 (got {ExpertHidden})");
        ToMoeOptions().Validate();
        if (MoeKindNames.IsAdaptive(Moe))
        {
            var moeLayers = MoeLayers.Count;
            if (AcBaseLayers < 1)
                throw new ArgumentException($"--ac-base-layers must be at least 1 (got {AcBaseLayers}): the first MoE layer has no previous MoE layer whose routing the AC router could cluster on");
            if (AcBaseLayers >= moeLayers)
                throw new ArgumentException($"--moe {EnumNames.Cli(Moe)}: the model has {moeLayers} MoE layer(s) and the first {AcBaseLayers} use the base router (--ac-base-layers), so no layer would use the AC router; add layers or lower --ac-base-layers");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = false,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static LmConfig FromJson(string json) =>
        JsonSerializer.Deserialize<LmConfig>(json, JsonOptions) ?? throw new JsonException("empty model configuration");
}
