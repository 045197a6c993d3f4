using System.Text;
using System.Text.Json;
using StatFormer.IO;

namespace StatFormer.Training;

/// <summary>
/// metrics.jsonl: one JSON object per line with snake_case keys. Lines are appended as they come
/// (rewriting the whole file per record would be quadratic); a resume rewrites it atomically,
/// keeping only the records the checkpoint covers, which also drops a line torn by a crash.
/// </summary>
internal sealed class MetricsLog(string path)
{
    public string Path { get; } = path;

    public void Clear() => AtomicFile.WriteAllText(Path, "");

    /// <summary>Every readable record of a metrics.jsonl file (a torn last line is skipped); empty if the file does not exist.</summary>
    public static List<MetricRecord> Read(string path) =>
        File.Exists(path) ? File.ReadLines(path, Utf8NoBom).Select(TryParse).OfType<MetricRecord>().ToList() : new List<MetricRecord>();

    public void Append(MetricRecord record) => File.AppendAllText(Path, Serialize(record) + "\n", Utf8NoBom);

    /// <summary>Rewrites the file with the records of steps up to <paramref name="lastStep"/> and returns them.</summary>
    public List<MetricRecord> TruncateAfter(long lastStep)
    {
        var kept = new List<MetricRecord>();
        if (File.Exists(Path))
        {
            foreach (var line in File.ReadLines(Path, Utf8NoBom))
            {
                if (TryParse(line) is { } record && record.Step <= lastStep) kept.Add(record);
            }
        }
        var text = new StringBuilder();
        foreach (var record in kept) text.Append(Serialize(record)).Append('\n');
        AtomicFile.WriteAllText(Path, text.ToString());
        return kept;
    }

    private static readonly UTF8Encoding Utf8NoBom = new(false);

    internal static string Serialize(MetricRecord r)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("step", r.Step);
            json.WriteString("split", r.Split);
            WriteFinite(json, "loss", r.Loss);
            WriteFinite(json, "lr", r.LearningRate);
            WriteFinite(json, "tokens_per_second", r.TokensPerSecond);
            WriteFinite(json, "elapsed_seconds", r.ElapsedSeconds);
            if (r.AuxLoss is { } aux) WriteFinite(json, "aux_loss", aux);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    // JSON has no NaN/Infinity; a diverged validation loss is written as null.
    private static void WriteFinite(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }

    internal static MetricRecord? TryParse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            return new MetricRecord(
                root.GetProperty("step").GetInt64(),
                root.GetProperty("split").GetString() ?? "",
                ReadDouble(root, "loss"),
                ReadDouble(root, "lr"),
                ReadDouble(root, "tokens_per_second"),
                ReadDouble(root, "elapsed_seconds"),
                root.TryGetProperty("aux_loss", out _) ? ReadDouble(root, "aux_loss") : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static double ReadDouble(JsonElement root, string name)
    {
        var value = root.GetProperty(name);
        return value.ValueKind == JsonValueKind.Null ? double.NaN : value.GetDouble();
    }
}
