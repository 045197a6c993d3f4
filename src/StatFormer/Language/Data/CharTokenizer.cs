using System.Text.Json.Nodes;

namespace StatFormer.Language.Data;

/// <summary>
/// One id per UTF-16 code unit seen in the training text (ordinal order), plus a final
/// <c>&lt;unk&gt;</c> id for characters never seen in training. Newlines are ordinary characters.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    /// <summary>What <see cref="Decode"/> emits for <see cref="UnkId"/>: the Unicode replacement character.</summary>
    public const char UnknownChar = '\uFFFD';

    private readonly char[] _chars;
    private readonly Dictionary<char, int> _ids;

    private CharTokenizer(char[] sortedDistinctChars)
    {
        _chars = sortedDistinctChars;
        _ids = new Dictionary<char, int>(_chars.Length);
        for (var i = 0; i < _chars.Length; i++) _ids[_chars[i]] = i;
    }

    public string Kind => "char";

    /// <summary>Known characters plus one for <c>&lt;unk&gt;</c>.</summary>
    public int VocabSize => _chars.Length + 1;

    /// <summary>Id of unseen characters; it is the last id.</summary>
    public int UnkId => _chars.Length;

    /// <summary>The known characters; the id of a character is its index here.</summary>
    public IReadOnlyList<char> Chars => _chars;

    public static CharTokenizer Train(string trainingText)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        var distinct = new HashSet<char>(trainingText).ToArray();
        Array.Sort(distinct); // char comparison is ordinal
        return new CharTokenizer(distinct);
    }

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
            ids[i] = _ids.TryGetValue(text[i], out var id) ? id : UnkId;
        return ids;
    }

    public EncodedText EncodeWithSpans(string text)
    {
        var ids = Encode(text);
        var spans = new TokenSpan[ids.Length];
        for (var i = 0; i < spans.Length; i++) spans[i] = new TokenSpan(i, 1);
        return new EncodedText(ids, spans);
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var chars = new char[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            if (id < 0 || id >= VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {VocabSize})");
            chars[i] = id == UnkId ? UnknownChar : _chars[id];
        }
        return new string(chars);
    }

    // Code units are stored as numbers so that any char (even a lone surrogate) survives JSON.
    public string ToJson() => new JsonObject
    {
        ["kind"] = Kind,
        ["codeUnits"] = new JsonArray(_chars.Select(c => (JsonNode)(int)c).ToArray()),
    }.ToJsonString();

    internal static CharTokenizer FromJson(JsonObject json)
    {
        var units = json["codeUnits"]?.AsArray()
                    ?? throw new InvalidDataException("char tokenizer JSON has no 'codeUnits' array");
        var chars = units.Select(n => (char)(n ?? throw new InvalidDataException("char tokenizer JSON has a null code unit")).GetValue<int>()).ToArray();
        var sorted = chars.Distinct().Order().ToArray();
        if (!sorted.SequenceEqual(chars))
            throw new InvalidDataException("char tokenizer JSON 'codeUnits' must be distinct and in ascending order");
        return new CharTokenizer(chars);
    }
}
