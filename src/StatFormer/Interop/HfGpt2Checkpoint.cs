using System.Globalization;
using System.Text.Json;
using StatFormer.Language.Models;
using StatFormer.Moe;
using TorchSharp;

namespace StatFormer.Interop;

/// <summary>
/// A Hugging Face GPT-2 checkpoint folder (what <c>save_pretrained</c> writes: <c>config.json</c> and
/// <c>model.safetensors</c> or <c>pytorch_model.bin</c>) read into a <see cref="TransformerLm"/> built with
/// <see cref="LmConfig.Gpt2"/>. The key mapping: <c>wte</c>/<c>wpe</c> → the token and position embeddings,
/// <c>h.i.ln_1</c>/<c>ln_2</c> → the block's LayerNorms, <c>attn.c_attn</c> → the fused q/k/v projection (same
/// q, k, v order and head split), <c>attn.c_proj</c> → the attention output, <c>mlp.c_fc</c>/<c>mlp.c_proj</c> → the
/// MLP, <c>ln_f</c> → the final norm. GPT-2's projections are Conv1D layers (y = x·W + b, W stored [in, out]), so
/// their weights are transposed into Linear's [out, in]. The causal-mask buffers (<c>attn.bias</c>,
/// <c>attn.masked_bias</c>) are dropped and <c>lm_head.weight</c>, when present, must equal <c>wte</c> (the head is tied).
/// </summary>
public sealed class HfGpt2Checkpoint
{
    public const string ConfigFileName = "config.json";
    public static readonly IReadOnlyList<string> WeightFileNames = ["model.safetensors", "pytorch_model.bin"];

    private HfGpt2Checkpoint(string folder, string weightsPath, int layers, int dModel, int heads, int positions, int vocabSize, double dropout)
    {
        (Folder, WeightsPath, Layers, DModel, Heads, Positions, VocabSize, Dropout) = (folder, weightsPath, layers, dModel, heads, positions, vocabSize, dropout);
    }

    public string Folder { get; }

    /// <summary>The weights file used: model.safetensors when present, else pytorch_model.bin.</summary>
    public string WeightsPath { get; }

    public int Layers { get; }
    public int DModel { get; }
    public int Heads { get; }

    /// <summary>n_positions: rows of the learned position table, the longest context the checkpoint knows.</summary>
    public int Positions { get; }

    public int VocabSize { get; }

    /// <summary>resid_pdrop (GPT-2 uses one probability for every dropout).</summary>
    public double Dropout { get; }

    /// <summary>Reads and checks <c>config.json</c> and finds the weights file.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">No config.json, or no weights file.</exception>
    /// <exception cref="InvalidDataException">The configuration is not a GPT-2 this model can reproduce (named setting and value).</exception>
    public static HfGpt2Checkpoint Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder (a Hugging Face GPT-2 checkpoint folder was expected)");
        var configPath = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{folder}: no {ConfigFileName} (a Hugging Face GPT-2 checkpoint folder holds config.json and model.safetensors or pytorch_model.bin)", configPath);
        var weights = WeightFileNames.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"{folder}: no {string.Join(" or ", WeightFileNames)} (sharded checkpoints are not supported)", Path.Combine(folder, WeightFileNames[0]));
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configPath));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message})", e);
        }
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{configPath}: a JSON object was expected");

        string Fail(string reason) => throw new InvalidDataException($"{configPath}: {reason}");
        int Int(string key, int? fallback = null) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i
            : fallback ?? throw new InvalidDataException($"{configPath}: '{key}' is missing or not an integer");
        double Number(string key, double fallback) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        string? Text(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool Flag(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;

        if (Text("model_type") is { } type && type != "gpt2") Fail($"model_type is '{type}', not 'gpt2'");
        var dModel = Int("n_embd");
        var activation = Text("activation_function") ?? "gelu_new";
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
            Fail($"activation_function '{activation}' is not GPT-2's tanh-approximated GELU (gelu_new)");
        var epsilon = Number("layer_norm_epsilon", 1e-5);
        if (Math.Abs(epsilon - 1e-5) > 1e-12) Fail($"layer_norm_epsilon {epsilon.ToString(CultureInfo.InvariantCulture)} is not GPT-2's 1e-5");
        if (root.TryGetProperty("n_inner", out var inner) && inner.ValueKind == JsonValueKind.Number && inner.GetInt32() != 4 * dModel)
            Fail($"n_inner {inner.GetInt32()} is not 4 × n_embd ({4 * dModel})");
        if (root.TryGetProperty("scale_attn_weights", out var scale) && scale.ValueKind == JsonValueKind.False) Fail("scale_attn_weights false is not supported");
        if (Flag("scale_attn_by_inverse_layer_idx")) Fail("scale_attn_by_inverse_layer_idx is not supported");
        if (Flag("reorder_and_upcast_attn")) Fail("reorder_and_upcast_attn is not supported");
        if (root.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind == JsonValueKind.False) Fail("tie_word_embeddings false (an untied head) is not supported");
        var positions = Int("n_positions", root.TryGetProperty("n_ctx", out _) ? Int("n_ctx") : null);
        return new HfGpt2Checkpoint(folder, weights, Int("n_layer"), dModel, Int("n_head"), positions, Int("vocab_size"), Number("resid_pdrop", 0.1));
    }

    /// <summary>
    /// The model for this checkpoint: its shape (layers, width, heads, vocabulary) and GPT-2's architecture, with
    /// what the checkpoint leaves open taken from <paramref name="requested"/>: the attention (softmax or elliptical, its
    /// estimator, layers and scaling), dropout and the context length, which must not pass n_positions.
    /// </summary>
    /// <exception cref="ArgumentException">ParamName <c>SeqLen</c> or <c>Stack.Moe.Router</c>: the request cannot be met.</exception>
    public LmConfig ConfigFor(LmConfig requested)
    {
        Options.OptionCheck.Require(requested.SeqLen <= Positions, nameof(LmConfig.SeqLen),
            $"{requested.SeqLen} is longer than the checkpoint's context (n_positions {Positions})");
        Options.OptionCheck.Require(requested.Stack.Moe.Router == MoeKind.None, $"{nameof(LmConfig.Stack)}.{nameof(LmConfig.Stack.Moe)}.{nameof(LmConfig.Stack.Moe.Router)}",
            "a GPT-2 checkpoint has dense feed-forward layers: use no MoE router");
        var gpt2 = LmConfig.Gpt2(Layers, DModel, Heads, requested.SeqLen, VocabSize, requested.Stack.Dropout, requested.Stack.Attention);
        var config = gpt2 with
        {
            Stack = gpt2.Stack with
            {
                Estimator = requested.Stack.Estimator,
                EllipticalLayers = requested.Stack.EllipticalLayers,
                EllipticalUnscaled = requested.Stack.EllipticalUnscaled,
            },
        };
        config.Validate();
        return config;
    }

    /// <summary>Refuses a checkpoint whose vocabulary cannot hold every id of a tokenizer of <paramref name="tokenizerVocabSize"/> tokens.</summary>
    /// <exception cref="InvalidDataException">vocab_size is smaller.</exception>
    public void RequireVocabulary(int tokenizerVocabSize)
    {
        if (VocabSize < tokenizerVocabSize)
            throw new InvalidDataException($"{Path.Combine(Folder, ConfigFileName)}: vocab_size {VocabSize} is smaller than the GPT-2 tokenizer's {tokenizerVocabSize}");
    }

    /// <summary>
    /// Loads the checkpoint's weights into <paramref name="model"/> (built from <see cref="ConfigFor"/>): names and
    /// shapes are checked against GPT-2's layout first, and one error lists every missing, unexpected and mismatched key.
    /// The position table is cut to the model's context (its first SeqLen rows).
    /// </summary>
    /// <exception cref="InvalidDataException">The weights file is unreadable or does not fit.</exception>
    public void LoadInto(TransformerLm model)
    {
        var raw = StateDictFile.Read(WeightsPath);
        try
        {
            using var scope = torch.NewDisposeScope();
            // save_pretrained of GPT2LMHeadModel prefixes "transformer."; the original GPT-2 files do not.
            var tensors = raw.ToDictionary(kv => kv.Key.StartsWith("transformer.", StringComparison.Ordinal) ? kv.Key["transformer.".Length..] : kv.Key, kv => kv.Value);
            if (tensors.Remove("lm_head.weight", out var head) && tensors.TryGetValue("wte.weight", out var wte)
                && (!head.shape.SequenceEqual(wte.shape) || !head.to(wte.dtype).eq(wte).all().item<bool>()))
                throw new InvalidDataException($"{WeightsPath}: lm_head.weight differs from wte.weight; only GPT-2's tied output layer is supported");
            foreach (var key in tensors.Keys.Where(IsMaskBuffer).ToList()) tensors.Remove(key);

            var ours = model.state_dict();
            var mapping = KeyMap(model.Config.Stack.Layers);
            var expected = mapping.ToDictionary(m => m.Hf, m => HfShape(m, ours[m.Ours].shape));
            if (ModelWeights.Mismatches(expected, tensors.ToDictionary(kv => kv.Key, kv => kv.Value.shape)) is { } problems)
                throw new InvalidDataException($"{WeightsPath} does not fit a GPT-2 with {Layers} layers, width {DModel}, vocabulary {VocabSize} and {Positions} positions: {problems}");
            var mapped = mapping.ToDictionary(m => m.Ours, m =>
            {
                var t = tensors[m.Hf];
                if (m.Transpose) t = t.t();
                if (m.Hf == "wpe.weight") t = t.narrow(0, 0, model.Config.SeqLen);
                return t;
            });
            ModelWeights.Load(model, mapped, WeightsPath);
        }
        finally
        {
            StateDictFile.Dispose(raw);
        }
    }

    private long[] HfShape(KeyMapping m, long[] ours) =>
        m.Hf == "wpe.weight" ? [Positions, ours[1]] : m.Transpose ? [ours[1], ours[0]] : ours;

    private static bool IsMaskBuffer(string key) => key.EndsWith(".attn.bias", StringComparison.Ordinal) || key.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    /// <summary>One GPT-2 tensor and the <see cref="TransformerLm"/> parameter it becomes; Conv1D weights are transposed.</summary>
    public sealed record KeyMapping(string Hf, string Ours, bool Transpose);

    /// <summary>GPT-2's parameter names (without the "transformer." prefix) for <paramref name="layers"/> blocks, mapped to ours.</summary>
    public static IReadOnlyList<KeyMapping> KeyMap(int layers)
    {
        var map = new List<KeyMapping> { new("wte.weight", "tokenEmbedding.weight", false), new("wpe.weight", "positionEmbedding.weight", false) };
        for (var i = 0; i < layers; i++)
        {
            foreach (var (hf, ours, isConv) in new[]
            {
                ("ln_1", "ln1", false), ("attn.c_attn", "attn.qkv", true), ("attn.c_proj", "attn.proj", true),
                ("ln_2", "ln2", false), ("mlp.c_fc", "ffn.up", true), ("mlp.c_proj", "ffn.down", true),
            })
            {
                map.Add(new($"h.{i}.{hf}.weight", $"blocks.{i}.{ours}.weight", isConv));
                map.Add(new($"h.{i}.{hf}.bias", $"blocks.{i}.{ours}.bias", false));
            }
        }
        map.Add(new("ln_f.weight", "finalNorm.weight", false));
        map.Add(new("ln_f.bias", "finalNorm.bias", false));
        return map;
    }
}
