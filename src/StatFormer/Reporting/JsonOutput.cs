using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using StatFormer.IO;

namespace StatFormer.Reporting;

/// <summary>
/// The one JSON format of every result file: indented, snake_case property names and enum values, non-ASCII kept
/// readable, and NaN/±Infinity written as the named literals "NaN"/"Infinity" (a diverged run must still be recorded).
/// </summary>
public static class JsonOutput
{
    /// <summary>The settings used for every file StatFormer writes (also for reading them back).</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // Files, not HTML: "±" and "<unk>" should stay legible.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Serialises <paramref name="value"/> to <paramref name="path"/> atomically, with a trailing newline.</summary>
    public static void WriteFile<T>(string path, T value) =>
        AtomicFile.WriteAllText(path, Serialize(value) + "\n");
}
