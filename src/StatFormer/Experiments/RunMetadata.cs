using System.Text.Json;
using System.Text.Json.Serialization;
using StatFormer.Data;
using StatFormer.Models;

namespace StatFormer.Experiments;

/// <summary>
/// What a checkpoint must carry besides weights so that `lm eval` can rebuild the exact model,
/// tokenizer and data: stored verbatim as the trainer's checkpoint metadata.
/// </summary>
public sealed record RunMetadata(string ModelConfig, string TokenizerJson, string Data, int DataSeed)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public LmConfig Config => LmConfig.FromJson(ModelConfig);

    [JsonIgnore]
    public ITokenizer Tokenizer => TokenizerFactory.FromJson(TokenizerJson);

    /// <summary>Parses metadata read from <paramref name="source"/> (named in the error).</summary>
    public static RunMetadata Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<RunMetadata>(json, Options)
                ?? throw new UserInputException($"{source}: checkpoint metadata is empty");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{source}: checkpoint metadata is not a StatFormer run description ({e.Message})");
        }
    }
}
