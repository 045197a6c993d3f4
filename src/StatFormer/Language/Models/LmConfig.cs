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
    /// <summary>XMoE: learn the temperature (as a log-temperature, from <see cref="XmoeTemperature"/>) or keep it fixed.</summary>
    public bool XmoeLearnableTemperature { get; init; } = MoeDefaults.XmoeLearnableTemperature;
    /// <summary>XMoE: initial (learnable) or fixed temperature dividing the cosine scores.</summary>
    public double XmoeTemperature { get; init; } = MoeDefaults.XmoeTemperature;
    /// <summary>AC: ε in the feature weights 1/(MAD + ε).</summary>
    public double AcEpsilon { get; init; } = MoeDefaults.AcEpsilon;
    /// <summary>AC: the feature weights are clipped at this multiple of their mean before the per-feature normalisation.</summary>
    public double AcClipMultiple { get; init; } = MoeDefaults.AcClipMultiple;
    /// <summary>AC: weight of the newest batch in the running cluster statistics (≈ 1/momentum batches remembered).</summary>
    public double AcMomentum { get; init; } = MoeDefaults.AcMomentum;

    // The MoE layer's own defaults, so that they are declared once (in MoeOptions).
    private static readonly MoeOptions MoeDefaults = new() { ExpertHidden = 1 };

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
        XmoeLearnableTemperature = XmoeLearnableTemperature,
        XmoeTemperature = XmoeTemperature,
        AcEpsilon = AcEpsilon,
        AcClipMultiple = AcClipMultiple,
        AcMixTopK = AcMixTopK,
        AcEstimator = AcEstimator,
        AcMomentum = AcMomentum,
    };

    /// <summary>The layers that actually use the elliptical metric under this configuration.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EffectiveEllipticalLayers =>
        Attention != AttentionKind.Elliptical ? Array.Empty<int>()
        : EllipticalLayers ?? Enumerable.Range(1, Math.Max(0, Layers - 1)).ToArray();

    /// <exception cref="ArgumentException">ParamName is the offending property (e.g. <c>Heads</c>); the reason names properties too.</exception>
    public void Validate()
    {
        OptionCheck.Require(VocabSize >= 2, nameof(VocabSize), $"must be at least 2 (got {VocabSize})");
        OptionCheck.Require(Layers >= 1, nameof(Layers), $"must be at least 1 (got {Layers})");
        OptionCheck.Require(Heads >= 1, nameof(Heads), $"must be at least 1 (got {Heads})");
        OptionCheck.Require(DModel >= 1 && DModel % Heads == 0, nameof(DModel), $"must be a positive multiple of Heads ({Heads}) (got {DModel})");
        OptionCheck.Require(SeqLen >= 1, nameof(SeqLen), $"must be at least 1 (got {SeqLen})");
        OptionCheck.Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) (got {Dropout})");
        OptionCheck.Require(FfnMultiplier >= 1, nameof(FfnMultiplier), $"must be at least 1 (got {FfnMultiplier})");
        OptionCheck.Require(Enum.IsDefined(Attention), nameof(Attention), $"unknown attention {Attention}");
        OptionCheck.Require(Enum.IsDefined(Estimator), nameof(Estimator), $"unknown estimator {Estimator}");
        ValidateMoe();
        foreach (var layer in EllipticalLayers ?? Array.Empty<int>())
        {
            OptionCheck.Require(layer >= 0 && layer < Layers, nameof(EllipticalLayers), $"layer {layer} does not exist (the model has layers 0..{Layers - 1})");
            OptionCheck.Require(layer != 0, nameof(EllipticalLayers), "layer 0 cannot be elliptical: it has no previous layer's values to estimate the metric from");
        }
    }

    private void ValidateMoe()
    {
        OptionCheck.Require(Enum.IsDefined(Moe), nameof(Moe), $"unknown MoE kind {Moe}");
        if (Moe == MoeKind.None) return;
        OptionCheck.Require(MoeEvery is 1 or 2, nameof(MoeEvery), $"must be 1 (Switch: every block) or 2 (GLaM: every other block) (got {MoeEvery})");
        OptionCheck.Require(BalanceWeight >= 0 && double.IsFinite(BalanceWeight), nameof(BalanceWeight), $"must be a finite number ≥ 0 (got {BalanceWeight})");
        OptionCheck.Require(ExpertHidden is null or >= 1, nameof(ExpertHidden), $"must be at least 1 (got {ExpertHidden})");
        // The layer options carry the same property names as this record.
        ToMoeOptions().Validate();
        if (MoeKindNames.IsAdaptive(Moe))
        {
            var moeLayers = MoeLayers.Count;
            OptionCheck.Require(AcBaseLayers >= 1, nameof(AcBaseLayers),
                $"must be at least 1 (got {AcBaseLayers}): the first MoE layer has no previous MoE layer whose routing the AC router could cluster on");
            OptionCheck.Require(AcBaseLayers < moeLayers, nameof(AcBaseLayers),
                $"with Moe {EnumNames.Cli(Moe)} the model has {moeLayers} MoE layer(s) and the first {AcBaseLayers} use the base router, so no layer would use the AC router; add Layers or lower AcBaseLayers");
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
