using System.Text;
using System.Text.Json.Nodes;

namespace StatFormer.Language.Data;

/// <summary>
/// Word-level tokenizer following the PyTorch word_language_model convention: every line becomes
/// its whitespace-separated words followed by <c>&lt;eos&gt;</c> (blank lines give just
/// <c>&lt;eos&gt;</c>). Id 0 is <c>&lt;eos&gt;</c>, id 1 is <c>&lt;unk&gt;</c>; the remaining
/// words follow by descending training frequency, ties in ordinal string order, so the same
/// training text always yields the same ids.
/// </summary>
public sealed class WordTokenizer : ITokenizer
{
    public const string EndOfSentence = "<eos>";
    public const string Unknown = "<unk>";

    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;

    private WordTokenizer(string[] words)
    {
        _words = words;
        _ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (var i = 0; i < words.Length; i++) _ids[words[i]] = i;
        EosId = _ids[EndOfSentence];
        UnkId = _ids[Unknown];
    }

    public string Kind => "word";

    public int VocabSize => _words.Length;

    /// <summary>The vocabulary; the id of a word is its index here.</summary>
    public IReadOnlyList<string> Words => _words;

    public int UnkId { get; }

    public int EosId { get; }

    /// <param name="minCount">Words seen fewer times than this map to <c>&lt;unk&gt;</c>.</param>
    /// <param name="maxSize">Cap on <see cref="VocabSize"/>, counting <c>&lt;eos&gt;</c> and <c>&lt;unk&gt;</c>; null means no cap.</param>
    public static WordTokenizer Train(string trainingText, int minCount = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        if (minCount < 1)
            throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "must be at least 1");
        if (maxSize is < 2)
            throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "must be at least 2, for <eos> and <unk>");

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var countsBySpan = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        ForEachToken(trainingText, (start, length) =>
        {
            if (length < 0) return;
            var word = trainingText.AsSpan(start, length);
            countsBySpan[word] = countsBySpan.TryGetValue(word, out var count) ? count + 1 : 1;
        });

        var ranked = counts
            .Where(kv => kv.Value >= minCount && kv.Key != EndOfSentence && kv.Key != Unknown)
            .OrderByDescending(kv => kv.Value)
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (maxSize is { } cap) ranked = ranked.Take(cap - 2);

        return new WordTokenizer([EndOfSentence, Unknown, .. ranked]);
    }

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 4);
        var idsBySpan = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        ForEachToken(text, (start, length) =>
            ids.Add(length < 0 ? EosId : idsBySpan.TryGetValue(text.AsSpan(start, length), out var id) ? id : UnkId));
        return ids.ToArray();
    }

    /// <summary>A word's span is the word; an <c>&lt;eos&gt;</c> spans its '\n', or nothing (length 0 at the end) after a last line without one.</summary>
    public EncodedText EncodeWithSpans(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 4);
        var spans = new List<TokenSpan>(text.Length / 4);
        var idsBySpan = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        ForEachToken(text, (start, length) =>
        {
            if (length < 0)
            {
                spans.Add(start < text.Length ? new TokenSpan(start, 1) : new TokenSpan(start, 0));
                ids.Add(EosId);
                return;
            }
            spans.Add(new TokenSpan(start, length));
            ids.Add(idsBySpan.TryGetValue(text.AsSpan(start, length), out var id) ? id : UnkId);
        });
        return new EncodedText(ids.ToArray(), spans.ToArray());
    }

    /// <summary>Words joined by single spaces; <c>&lt;eos&gt;</c> becomes a newline.</summary>
    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        var atLineStart = true;
        foreach (var id in ids)
        {
            if (id < 0 || id >= _words.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {VocabSize})");
            if (id == EosId)
            {
                text.Append('\n');
                atLineStart = true;
                continue;
            }
            if (!atLineStart) text.Append(' ');
            text.Append(_words[id]);
            atLineStart = false;
        }
        return text.ToString();
    }

    public string ToJson() => new JsonObject
    {
        ["kind"] = Kind,
        ["words"] = new JsonArray(_words.Select(w => (JsonNode)w).ToArray()),
    }.ToJsonString();

    internal static WordTokenizer FromJson(JsonObject json)
    {
        var array = json["words"]?.AsArray()
                    ?? throw new InvalidDataException("word tokenizer JSON has no 'words' array");
        var words = array.Select(n => (n ?? throw new InvalidDataException("word tokenizer JSON has a null word")).GetValue<string>()).ToArray();
        if (words.Distinct(StringComparer.Ordinal).Count() != words.Length)
            throw new InvalidDataException("word tokenizer JSON 'words' contains duplicates");
        if (!words.Contains(EndOfSentence) || !words.Contains(Unknown))
            throw new InvalidDataException($"word tokenizer JSON 'words' must contain {EndOfSentence} and {Unknown}");
        return new WordTokenizer(words);
    }

    /// <summary>
    /// Walks the text as Python's <c>for line in f: line.split()</c> does, without allocating:
    /// reports each word as (start, length) and each line end as (index of its '\n', or the text length, -1). A final newline does
    /// not start another line; a last line without one still ends.
    /// </summary>
    private static void ForEachToken(string text, Action<int, int> onToken)
    {
        var lineOpen = false;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                onToken(i, -1);
                lineOpen = false;
                i++;
                continue;
            }
            lineOpen = true;
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++; // '\n' is whitespace too
            onToken(start, i - start);
        }
        if (lineOpen) onToken(text.Length, -1);
    }
}
