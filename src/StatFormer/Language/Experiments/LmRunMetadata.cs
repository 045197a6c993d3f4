using System.Text.Json;
using System.Text.Json.Serialization;
using StatFormer.Language.Data;
using StatFormer.Language.Models;
using StatFormer.Language.Robustness;

namespace StatFormer.Language.Experiments;

/// <summary>
/// What a checkpoint must carry besides weights so that `lm eval` can rebuild the exact model,
/// tokenizer, data and evaluation (windows and attack draw): stored verbatim as the trainer's
/// checkpoint metadata. <paramref name="Evaluation"/> is null in checkpoints written before it existed.
/// </summary>
public sealed record LmRunMetadata(string ModelConfig, string TokenizerJson, string Data, int DataSeed, RunEvaluationSettings? Evaluation = null)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public LmConfig Config => LmConfig.FromJson(ModelConfig);

    [JsonIgnore]
    public ITokenizer Tokenizer => TokenizerFactory.FromJson(TokenizerJson);

    /// <summary>Parses metadata read from <paramref name="source"/> (named in the error).</summary>
    public static LmRunMetadata Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<LmRunMetadata>(json, Options)
                ?? throw new InvalidDataException($"{source}: checkpoint metadata is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: checkpoint metadata is not a StatFormer run description ({e.Message})", e);
        }
    }
}

/// <summary>
/// The final-evaluation settings of a run, so that `lm eval --run` scores the same windows under the
/// same attack draw as the run's summary unless told otherwise.
/// </summary>
public sealed record RunEvaluationSettings(int BatchSize, int EvalTokens, int? Stride, IReadOnlyList<double> AttackRates, WordSwapMode AttackMode, int AttackSeed,
    WordSwapUnit AttackUnit = WordSwapUnit.Line)
{
    public static RunEvaluationSettings From(LmRunOptions o) =>
        new(o.Data.BatchSize, o.Eval.EvalTokens, o.Eval.Stride, o.Attack.Rates, o.Attack.Mode, o.Attack.Seed, o.Attack.Unit);

    /// <summary><paramref name="options"/> with these settings applied.</summary>
    public LmRunOptions ApplyTo(LmRunOptions options) => options with
    {
        Data = options.Data with { BatchSize = BatchSize },
        Eval = options.Eval with { EvalTokens = EvalTokens, Stride = Stride },
        Attack = new WordSwapAttackOptions { Rates = AttackRates, Mode = AttackMode, Seed = AttackSeed, Unit = AttackUnit },
    };
}
