using System.Text.Json;
using System.Text.Json.Nodes;

namespace StatFormer.Language.Data;

/// <summary>Builds tokenizers by kind name (as given on the command line) or from saved JSON.</summary>
public static class TokenizerFactory
{
    public static readonly IReadOnlyList<string> Kinds = ["char", "word", "gpt2"];

    /// <param name="kind">"char", "word" or "gpt2" (the <c>--tokenizer</c> option).</param>
    /// <param name="minCount">Word tokenizer only: minimum frequency to get an own id.</param>
    /// <param name="maxSize">Word tokenizer only: cap on the vocabulary size.</param>
    public static ITokenizer Train(string kind, string trainingText, int minCount = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        return kind switch
        {
            "char" => CharTokenizer.Train(trainingText),
            "word" => WordTokenizer.Train(trainingText, minCount, maxSize),
            "gpt2" => new Gpt2Tokenizer(),
            _ => throw new ArgumentException($"unknown tokenizer '{kind}'; accepted values are {string.Join(", ", Kinds)}", nameof(kind)),
        };
    }

    /// <summary>Rebuilds a tokenizer from <see cref="ITokenizer.ToJson"/> output.</summary>
    public static ITokenizer FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var root = JsonNode.Parse(json) as JsonObject
                       ?? throw new InvalidDataException("tokenizer JSON must be an object");
            var kind = root["kind"]?.GetValue<string>()
                       ?? throw new InvalidDataException("tokenizer JSON has no 'kind'");
            return kind switch
            {
                "char" => CharTokenizer.FromJson(root),
                "word" => WordTokenizer.FromJson(root),
                "gpt2" => new Gpt2Tokenizer(),
                _ => throw new InvalidDataException(
                    $"tokenizer JSON has unknown kind '{kind}'; accepted values are {string.Join(", ", Kinds)}"),
            };
        }
        // Malformed text or values of the wrong JSON type.
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"tokenizer JSON is invalid: {e.Message}", e);
        }
    }
}
