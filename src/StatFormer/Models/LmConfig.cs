using System.Text.Json;
using System.Text.Json.Serialization;
using StatFormer.Attention;

namespace StatFormer.Models;

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
        foreach (var layer in EllipticalLayers ?? Array.Empty<int>())
        {
            if (layer < 0 || layer >= Layers)
                throw new ArgumentException($"elliptical layer {layer} does not exist (the model has layers 0..{Layers - 1})");
            if (layer == 0)
                throw new ArgumentException("layer 0 cannot be elliptical: it has no previous layer's values to estimate the metric from");
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
