using System.Text.Json;
using System.Text.Json.Serialization;
using StatFormer.Attention;
using StatFormer.Moe;
using StatFormer.Options;
using StatFormer.Transformer;

namespace StatFormer.Language.Models;

/// <summary>Everything needed to rebuild a <see cref="TransformerLm"/>; stored in checkpoints and run summaries.</summary>
[JsonConverter(typeof(LmConfigJsonConverter))]
public sealed record LmConfig
{
    public int VocabSize { get; init; }

    /// <summary>Context length: the learned position table has this many rows.</summary>
    public int SeqLen { get; init; } = 128;

    /// <summary>The (causal) Transformer stack between the embeddings and the tied output layer.</summary>
    public TransformerStackOptions Stack { get; init; } = new();

    /// <summary>GPT-2's vocabulary (the byte-level BPE of <see cref="Data.Gpt2Tokenizer"/>).</summary>
    public const int Gpt2VocabSize = 50257;

    /// <summary>
    /// The GPT-2 architecture (Radford et al. 2019; Hugging Face's <c>GPT2LMHeadModel</c>): learned absolute positions,
    /// pre-LN blocks with biased q/k/v, output and MLP projections, a 4× MLP with GELU's tanh approximation, LayerNorm
    /// ε 1e-5, dropout on the embeddings, attention probabilities and both residual branches, and the output layer
    /// tied to the token embedding. Defaults are GPT-2 small (124 M parameters); every size shares the rest. Our
    /// model has exactly these parts, so a GPT-2 checkpoint maps onto it one tensor per parameter (see
    /// <see cref="Interop.HfGpt2Checkpoint"/>). Elliptical attention adds no parameters, so <paramref name="attention"/>
    /// may be elliptical over the same weights.
    /// </summary>
    public static LmConfig Gpt2(int layers = 12, int dModel = 768, int heads = 12, int seqLen = 1024, int vocabSize = Gpt2VocabSize,
        double dropout = 0.1, AttentionKind attention = AttentionKind.Softmax) => new()
        {
            VocabSize = vocabSize,
            SeqLen = seqLen,
            Stack = new TransformerStackOptions
            {
                Layers = layers, DModel = dModel, Heads = heads, Dropout = dropout, FfnMultiplier = 4,
                Activation = FeedForwardActivation.GeluTanh, Attention = attention,
            },
        };

    /// <summary>Throws <see cref="ArgumentException"/> whose ParamName is the property path (e.g. <c>Stack.Moe.Layer.TopK</c>).</summary>
    public void Validate()
    {
        OptionCheck.Require(VocabSize >= 2, nameof(VocabSize), $"VocabSize must be at least 2 (got {VocabSize})");
        OptionCheck.Require(SeqLen >= 1, nameof(SeqLen), $"SeqLen must be at least 1 (got {SeqLen})");
        OptionCheck.Require(!MoeKindNames.IsSoft(Stack.Moe.Router), $"{nameof(Stack)}.{nameof(Stack.Moe)}.{nameof(Stack.Moe.Router)}",
            $"{EnumNames.Cli(Stack.Moe.Router)} is for image models only: Soft MoE mixes every token of a sequence into every slot, so a language model cannot be causal with it");
        OptionCheck.Nested(nameof(Stack), Stack.Validate);
    }

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = false,
    };

    /// <summary>The nested tree: <c>{"vocab_size":…,"seq_len":…,"stack":{…,"moe":{…,"layer":{…}}}}</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads the nested tree, or the flat configuration that checkpoints of the previous build hold.</summary>
    public static LmConfig FromJson(string json) =>
        JsonSerializer.Deserialize<LmConfig>(json, JsonOptions) ?? throw new JsonException("empty model configuration");
}

/// <summary>
/// Writes <see cref="LmConfig"/> as the nested tree (snake_case, enums as snake_case strings) whatever options
/// the caller serialises with, and reads both that tree and the flat layout of the previous build
/// (vocab_size, layers, d_model, …, moe as a router name, experts, top_k, moe_every, …).
/// </summary>
internal sealed class LmConfigJsonConverter : JsonConverter<LmConfig>
{
    public override LmConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new JsonException("a model configuration must be a JSON object");
        var o = LmConfig.JsonOptions;
        T? Get<T>(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v.Deserialize<T>(o) : default;
        bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;
        var config = new LmConfig();
        config = config with
        {
            VocabSize = Has("vocab_size") ? Get<int>("vocab_size") : config.VocabSize,
            SeqLen = Has("seq_len") ? Get<int>("seq_len") : config.SeqLen,
        };
        if (root.TryGetProperty("stack", out var stack))
            return config with { Stack = stack.Deserialize<TransformerStackOptions>(o) ?? throw new JsonException("empty stack configuration") };

        // The flat layout of the previous build.
        var s = new TransformerStackOptions();
        var layer = new MoeOptions();
        var moe = new MoeLayout();
        return config with
        {
            Stack = s with
            {
                Layers = Has("layers") ? Get<int>("layers") : s.Layers,
                DModel = Has("d_model") ? Get<int>("d_model") : s.DModel,
                Heads = Has("heads") ? Get<int>("heads") : s.Heads,
                Dropout = Has("dropout") ? Get<double>("dropout") : s.Dropout,
                FfnMultiplier = Has("ffn_multiplier") ? Get<int>("ffn_multiplier") : s.FfnMultiplier,
                Attention = Has("attention") ? Get<AttentionKind>("attention") : s.Attention,
                // The previous build had only causal language models, whose estimator defaulted to causal.
                Estimator = Has("estimator") ? Get<EllipticalEstimator>("estimator") : EllipticalEstimator.Causal,
                EllipticalUnscaled = Has("elliptical_unscaled") && Get<bool>("elliptical_unscaled"),
                EllipticalLayers = Get<int[]>("elliptical_layers"),
                Moe = moe with
                {
                    Router = Has("moe") ? Get<MoeKind>("moe") : moe.Router,
                    Every = Has("moe_every") ? Get<int>("moe_every") : moe.Every,
                    BalanceWeight = Has("balance_weight") ? Get<double>("balance_weight") : moe.BalanceWeight,
                    AcBaseLayers = Has("ac_base_layers") ? Get<int>("ac_base_layers") : moe.AcBaseLayers,
                    Layer = layer with
                    {
                        Experts = Has("experts") ? Get<int>("experts") : layer.Experts,
                        TopK = Has("top_k") ? Get<int>("top_k") : layer.TopK,
                        CapacityFactor = Has("capacity_factor") ? Get<double>("capacity_factor") : layer.CapacityFactor,
                        AcMixTopK = Has("ac_mix_top_k") && Get<bool>("ac_mix_top_k"),
                        AcEstimator = Has("ac_estimator") ? Get<AcEstimator>("ac_estimator") : layer.AcEstimator,
                        XmoeDim = Has("xmoe_dim") ? Get<int>("xmoe_dim") : layer.XmoeDim,
                        ExpertHidden = Has("expert_hidden") ? Get<int>("expert_hidden") : null,
                    },
                },
            },
        };
    }

    public override void Write(Utf8JsonWriter writer, LmConfig value, JsonSerializerOptions options)
    {
        var o = LmConfig.JsonOptions;
        writer.WriteStartObject();
        writer.WriteNumber("vocab_size", value.VocabSize);
        writer.WriteNumber("seq_len", value.SeqLen);
        writer.WritePropertyName("stack");
        JsonSerializer.Serialize(writer, value.Stack, o);
        writer.WriteEndObject();
    }
}
