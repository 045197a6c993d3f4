using System.Text.Json.Serialization;
using StatFormer.Attention;
using StatFormer.Moe;
using StatFormer.Options;

namespace StatFormer.Transformer;

/// <summary>
/// The shape of a <see cref="TransformerStack"/>: depth, width, attention (softmax or elliptical) and the
/// feed-forward layers (dense, or Mixture of Experts laid out by <see cref="Moe"/>). Causality is not an
/// option: the stack's constructor takes it (a language model is causal, an encoder is not).
/// </summary>
public sealed record TransformerStackOptions
{
    public int Layers { get; init; } = 4;
    public int DModel { get; init; } = 128;
    public int Heads { get; init; } = 4;
    public double Dropout { get; init; } = 0.1;

    /// <summary>
    /// Stochastic depth (drop-path): the largest probability of dropping a block's residual branches for a whole sample in
    /// training, reached at the last block and rising linearly from 0 at the first (DeiT's rule). 0: off (no draw at all,
    /// so models without it, and their checkpoints, are unchanged).
    /// </summary>
    public double DropPath { get; init; }

    /// <summary>The drop-path probability of block <paramref name="layer"/>: <see cref="DropPath"/> · layer / (Layers − 1).</summary>
    public double DropPathAt(int layer) => Layers <= 1 ? 0 : DropPath * layer / (Layers - 1);

    /// <summary>Hidden width of the dense feed-forward block as a multiple of <see cref="DModel"/>.</summary>
    public int FfnMultiplier { get; init; } = 4;

    /// <summary>The dense feed-forward layer's nonlinearity; GPT-2 checkpoints use the tanh approximation. Written only when not the default, so existing configurations serialise unchanged.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public FeedForwardActivation Activation { get; init; } = FeedForwardActivation.Gelu;

    public AttentionKind Attention { get; init; } = AttentionKind.Softmax;

    /// <summary>The elliptical metric's estimator; null: Causal in a causal stack, Sequence in an encoder.</summary>
    public EllipticalEstimator? Estimator { get; init; }

    /// <summary>The authors' LM variant: no 1/√D in elliptical layers.</summary>
    public bool EllipticalUnscaled { get; init; }

    /// <summary>Which layers use the elliptical metric; null means all but the first (layer 0 has no previous values).</summary>
    public IReadOnlyList<int>? EllipticalLayers { get; init; }

    /// <summary>Mixture-of-Experts feed-forward layers: where they go, their router and options.</summary>
    public MoeLayout Moe { get; init; } = new();

    /// <summary>The blocks whose feed-forward layer is an MoE layer.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> MoeLayers => Moe.LayersOf(Layers);

    /// <summary>The router kind of each MoE layer, in order (AC kinds use their base router on the first <see cref="MoeLayout.AcBaseLayers"/>).</summary>
    [JsonIgnore]
    public IReadOnlyList<MoeKind> MoeLayerKinds => Moe.KindsOf(Layers);

    /// <summary>The layers that actually use the elliptical metric.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EffectiveEllipticalLayers =>
        Attention != AttentionKind.Elliptical ? Array.Empty<int>()
        : EllipticalLayers ?? Enumerable.Range(1, Math.Max(0, Layers - 1)).ToArray();

    /// <summary>
    /// Each expert's hidden width: <see cref="MoeOptions.ExpertHidden"/>, or FfnMultiplier·DModel / TopK so a token's active FFN
    /// parameters match the dense model's; Soft MoE: FfnMultiplier·DModel (each slot is processed by one expert, like a top-1 token).
    /// </summary>
    [JsonIgnore]
    public int EffectiveExpertHidden => Moe.Layer.ExpertHidden
        ?? Math.Max(1, FfnMultiplier * DModel / (MoeKindNames.IsSoft(Moe.Router) ? 1 : Math.Max(1, Moe.Layer.TopK)));

    /// <summary>The options every MoE layer is built with: expert width and dropout resolved.</summary>
    [JsonIgnore]
    public MoeOptions EffectiveMoeOptions => Moe.Layer with { ExpertHidden = EffectiveExpertHidden, Dropout = Moe.Layer.Dropout ?? Dropout };

    /// <summary>The elliptical estimator a stack of this causality uses.</summary>
    public EllipticalEstimator EstimatorFor(bool causal) => Estimator ?? EllipticalSelfAttention.DefaultEstimator(causal);

    /// <summary>Throws <see cref="ArgumentException"/> whose ParamName is the property path (e.g. <c>Moe.Layer.TopK</c>).</summary>
    public void Validate()
    {
        OptionCheck.Require(Layers >= 1, nameof(Layers), $"Layers must be at least 1 (got {Layers})");
        OptionCheck.Require(DModel >= 1, nameof(DModel), $"DModel must be at least 1 (got {DModel})");
        OptionCheck.Require(Heads >= 1 && DModel % Heads == 0, nameof(Heads), $"DModel ({DModel}) must be a positive multiple of Heads ({Heads})");
        OptionCheck.Require(Dropout is >= 0 and < 1, nameof(Dropout), $"Dropout must be in [0, 1) (got {Dropout})");
        OptionCheck.Require(DropPath is >= 0 and < 1, nameof(DropPath), $"DropPath must be in [0, 1) (got {DropPath})");
        OptionCheck.Require(FfnMultiplier >= 1, nameof(FfnMultiplier), $"FfnMultiplier must be at least 1 (got {FfnMultiplier})");
        OptionCheck.Require(Activation == FeedForwardActivation.Gelu || Moe.Router == MoeKind.None, nameof(Activation),
            $"Activation {Activation} applies to dense feed-forward layers only; MoE experts use the exact GELU");
        foreach (var layer in EllipticalLayers ?? Array.Empty<int>())
        {
            OptionCheck.Require(layer >= 0 && layer < Layers, nameof(EllipticalLayers), $"EllipticalLayers: layer {layer} does not exist (the stack has layers 0..{Layers - 1})");
            OptionCheck.Require(layer != 0, nameof(EllipticalLayers), "EllipticalLayers: layer 0 cannot be elliptical: it has no previous layer's values to estimate the metric from");
        }
        OptionCheck.Nested(nameof(Moe), () => Moe.Validate(Layers));
    }
}
