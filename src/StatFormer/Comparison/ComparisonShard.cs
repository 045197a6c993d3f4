using System.Globalization;
using System.Text.Json;
using StatFormer.IO;

namespace StatFormer.Comparison;

/// <summary>
/// One machine's share of a comparison (<c>--shard I/N</c>, 0 ≤ I &lt; N): the runs at positions k (seeds outer, variants
/// inner, as the comparison runs them) with k mod N = I. The shares are disjoint and together cover every run, so N
/// processes, e.g. a Slurm job array, can fill one shared --out; each run locks only its own NAME-seedK folder.
/// </summary>
public sealed record ComparisonShard(int Index, int Count)
{
    /// <summary>Written by every shard into the comparison folder: its runs are then aggregated, never trained, by a run without --shard.</summary>
    public const string FileName = "shards.json";

    /// <summary>Parses "I/N".</summary>
    /// <exception cref="FormatException">Not two integers with 0 ≤ I &lt; N.</exception>
    public static ComparisonShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1 && index < count)
            return new ComparisonShard(index, count);
        throw new FormatException($"'{text}' is not I/N with 0 ≤ I < N (e.g. 0/4 … 3/4)");
    }

    /// <summary>
    /// The --shard value of a comparison's options, validated once for every domain: null when there is none, else the
    /// parsed share. A malformed value is an <see cref="ArgumentException"/> whose ParamName is <paramref name="property"/>.
    /// </summary>
    public static ComparisonShard? ParseOption(string? text, string property = "Shard")
    {
        if (text is null) return null;
        try
        {
            return Parse(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message, property);
        }
    }

    /// <summary>The share of a run that must be sharded: <see cref="ParseOption"/>, and an <see cref="ArgumentException"/> when there is none.</summary>
    public static ComparisonShard Require(string? text, string property = "Shard") =>
        ParseOption(text, property) ?? throw new ArgumentException("a sharded run needs I/N", property);

    public bool Owns(int position) => position % Count == Index;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Records in <paramref name="folder"/> that it is filled by <see cref="Count"/> shards (the same content from every shard, written atomically).</summary>
    /// <exception cref="InvalidDataException">The folder was begun with another number of shards.</exception>
    internal void Mark(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (ReadCount(folder) is { } existing && existing != Count)
            throw new InvalidDataException($"{path}: the comparison was begun with {existing} shards, not {Count}; use the same N on every machine");
        AtomicFile.WriteAllText(path, $"{{\"count\":{Count.ToString(CultureInfo.InvariantCulture)}}}\n");
    }

    /// <summary>The shard count recorded in <paramref name="folder"/>, or null when no shard wrote there.</summary>
    internal static int? ReadCount(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.GetProperty("count").GetInt32();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a shard record ({e.Message})", e);
        }
    }
}

/// <summary>What one shard did: the runs it trained or found finished, and the comparison's runs still without a summary.json.</summary>
public sealed record ComparisonShardResult(ComparisonShard Shard, IReadOnlyList<string> Done, IReadOnlyList<string> Missing);
