using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Interop;

/// <summary>
/// A model's state dict out of and into a file, with the names <em>and shapes</em> checked on the way in: a file
/// that does not fit is refused with one error that lists every missing, unexpected and mismatched tensor,
/// before any weight is changed (PyBridge's own <c>load_py</c> checks names only and would copy a wrong shape).
/// </summary>
public static class ModelWeights
{
    /// <summary>The model's state dict (parameters and buffers) in its registration order; the tensors are the model's own.</summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> StateDict(nn.Module model) =>
        model.state_dict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value)).ToList();

    /// <summary>Writes the model's state dict to <paramref name="path"/> (atomically).</summary>
    public static void Export(nn.Module model, string path, StateDictFormat format) =>
        StateDictFile.Write(path, StateDict(model), format);

    /// <summary>Reads <paramref name="path"/> (either format) into the model; see <see cref="Load(nn.Module, IReadOnlyDictionary{string, Tensor}, string)"/>.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable or does not fit the model.</exception>
    public static void Load(nn.Module model, string path)
    {
        var tensors = StateDictFile.Read(path);
        try
        {
            Load(model, tensors, path);
        }
        finally
        {
            StateDictFile.Dispose(tensors);
        }
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into the model's parameters and buffers (converting the dtype if needed),
    /// after checking that they hold exactly the model's names with the model's shapes.
    /// </summary>
    /// <param name="source">Names the origin in the error (a file path).</param>
    /// <exception cref="InvalidDataException">Names or shapes differ; nothing was copied.</exception>
    public static void Load(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        var target = model.state_dict();
        var problems = Mismatches(target.ToDictionary(kv => kv.Key, kv => kv.Value.shape), tensors.ToDictionary(kv => kv.Key, kv => kv.Value.shape));
        if (problems is not null) throw new InvalidDataException($"{source} does not fit the model: {problems}");
        using var noGrad = torch.no_grad();
        foreach (var (name, t) in target) t.copy_(tensors[name]);
    }

    /// <summary>
    /// "missing: a, b; unexpected: c; mismatched: d (file [3,4], model [4,3])", or null when <paramref name="found"/>
    /// has exactly <paramref name="expected"/>'s names and shapes.
    /// </summary>
    public static string? Mismatches(IReadOnlyDictionary<string, long[]> expected, IReadOnlyDictionary<string, long[]> found)
    {
        var missing = expected.Keys.Where(k => !found.ContainsKey(k)).ToList();
        var unexpected = found.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var mismatched = expected.Where(kv => found.TryGetValue(kv.Key, out var shape) && !shape.SequenceEqual(kv.Value))
            .Select(kv => $"{kv.Key} (file {Shape(found[kv.Key])}, model {Shape(kv.Value)})").ToList();
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected: {string.Join(", ", unexpected)}");
        if (mismatched.Count > 0) parts.Add($"mismatched: {string.Join(", ", mismatched)}");
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    /// <summary>"[3,4]".</summary>
    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
