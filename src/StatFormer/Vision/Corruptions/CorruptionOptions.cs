using System.Globalization;
using System.Text.Json.Serialization;
using StatFormer.Options;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// The common-corruption evaluation of a trained image classifier: which corruptions of the set the images call for
/// (CIFAR-10-C for colour, MNIST-C for grey digits), at which severities, on how many test images, with which seed. Off
/// unless <see cref="Corruptions"/> names some.
/// </summary>
public sealed record CorruptionOptions
{
    /// <summary>"none" (off), "all" (every corruption of the set that is built) or a comma-separated list of names (gaussian-noise,fog,…).</summary>
    public string Corruptions { get; init; } = "none";

    /// <summary>"1..5", "1,3,5" …; null: every level of the set (CIFAR-10-C 1..5, MNIST-C its one level, 1).</summary>
    public string? Severities { get; init; }

    /// <summary>A class-stratified subset of the test set of this size (the same images for every model; null: all).</summary>
    public int? MaxImages { get; init; } = 1000;

    /// <summary>Seed of the subset and of every corruption's draws (one generator per corruption and severity).</summary>
    public int Seed { get; init; }

    /// <summary>
    /// A folder with MNIST's IDX files: for 3 × 32 × 32 models, also score max-softmax OOD detection against MNIST test
    /// digits padded to 32 × 32 and repeated over the three channels. Null: not done.
    /// </summary>
    public string? OodMnistPath { get; init; }

    [JsonIgnore]
    public bool Enabled => !string.Equals(Corruptions.Trim(), "none", StringComparison.OrdinalIgnoreCase) && Corruptions.Trim().Length > 0;

    /// <summary>The corruptions asked for in <paramref name="set"/>, in the set's order for "all", else as listed.</summary>
    /// <exception cref="ArgumentException">ParamName <c>Corruptions</c>: an unknown name, one not in the set, or one left out (with the reason).</exception>
    public IReadOnlyList<CorruptionKind> Resolve(CorruptionSet set)
    {
        if (!Enabled) return [];
        if (string.Equals(Corruptions.Trim(), "all", StringComparison.OrdinalIgnoreCase)) return CorruptionSets.Built(set);
        var names = Corruptions.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var kinds = new List<CorruptionKind>();
        foreach (var name in names)
        {
            var kind = EnumNames.Parse<CorruptionKind>(name, nameof(Corruptions));
            if (CorruptionSets.LeftOut(set, kind) is { } why) throw new ArgumentException($"{name} ({EnumNames.Cli(set)}): {why}", nameof(Corruptions));
            if (kinds.Contains(kind)) throw new ArgumentException($"{name} is listed twice", nameof(Corruptions));
            kinds.Add(kind);
        }
        return kinds;
    }

    /// <summary>The severities asked for in <paramref name="set"/>, ascending.</summary>
    /// <exception cref="ArgumentException">ParamName <c>Severities</c>: not a list or range of integers, or a level the set does not have.</exception>
    public IReadOnlyList<int> ResolveSeverities(CorruptionSet set)
    {
        var levels = CorruptionSets.Severities(set);
        if (Severities is null || Severities.Trim().Length == 0) return Enumerable.Range(1, levels).ToArray();
        var parsed = ParseSeverities(Severities);
        if (parsed.Any(s => s > levels))
            throw new ArgumentException($"{EnumNames.Cli(set)} has severities 1..{levels} (got {Severities})", nameof(Severities));
        return parsed;
    }

    /// <summary>"a..b" or "a,b,…" (integers ≥ 1), sorted and without repeats.</summary>
    public static IReadOnlyList<int> ParseSeverities(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int Level(string item) => int.TryParse(item.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var level) && level >= 1
            ? level : throw new ArgumentException($"'{item.Trim()}' in '{text}' is not a severity (an integer ≥ 1; write 1..5 or 1,3,5)", nameof(Severities));
        var range = text.Split("..");
        var levels = range.Length switch
        {
            2 when Level(range[0]) <= Level(range[1]) => Enumerable.Range(Level(range[0]), Level(range[1]) - Level(range[0]) + 1).ToList(),
            2 => throw new ArgumentException($"'{text}': the range runs backwards", nameof(Severities)),
            _ => text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Level).ToList(),
        };
        if (levels.Count == 0) throw new ArgumentException("no severities given", nameof(Severities));
        if (levels.Distinct().Count() != levels.Count) throw new ArgumentException($"'{text}' names a severity twice", nameof(Severities));
        return levels.Order().ToArray();
    }

    /// <summary>The checks that need the test images: the set their shape calls for has the corruptions and severities asked for, the subset holds every class, MNIST as a shifted set fits the images.</summary>
    /// <exception cref="ArgumentException">ParamName is the offending property (<c>Corruptions</c>, <c>Severities</c>, <c>MaxImages</c>, <c>OodMnistPath</c>).</exception>
    public void ValidateFor(Vision.Data.ImageDataset test)
    {
        ArgumentNullException.ThrowIfNull(test);
        Validate();
        if (!Enabled) return;
        OptionCheck.Require(test.Channels is 1 or 3, nameof(Corruptions),
            $"corruptions are defined for 1-channel (MNIST-C) or 3-channel (CIFAR-10-C) images, not {test.Channels} channels");
        var set = CorruptionSets.For(test.Channels);
        OptionCheck.Require(set != CorruptionSet.MnistC || (test.Height == 28 && test.Width == 28), nameof(Corruptions),
            $"MNIST-C is defined on 28×28 digits, these 1-channel images are {test.Height}×{test.Width}");
        Resolve(set);
        ResolveSeverities(set);
        var count = Math.Min(MaxImages ?? int.MaxValue, test.Count);
        OptionCheck.Require(count >= test.Count || count >= test.Classes, nameof(MaxImages), $"{count} images cannot hold one of each of the {test.Classes} classes");
        OptionCheck.Require(OodMnistPath is null || (test.Channels == 3 && test.Height == 32 && test.Width == 32), nameof(OodMnistPath),
            $"MNIST as the shifted set is for 3×32×32 models (these images are {test.Channels}×{test.Height}×{test.Width})");
        OptionCheck.Require(OodMnistPath is null || Directory.Exists(OodMnistPath), nameof(OodMnistPath), $"{OodMnistPath}: no such folder");
    }

    /// <summary>The checks that need no data (names exist, severities parse, sizes positive); the set-dependent ones run at evaluation.</summary>
    public void Validate()
    {
        if (Enabled && !string.Equals(Corruptions.Trim(), "all", StringComparison.OrdinalIgnoreCase))
            foreach (var name in Corruptions.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                EnumNames.Parse<CorruptionKind>(name, nameof(Corruptions));
        if (Severities is { } severities && severities.Trim().Length > 0) ParseSeverities(severities);
        OptionCheck.Require(MaxImages is null or >= 1, nameof(MaxImages), $"must be at least 1 when given (got {MaxImages})");
        OptionCheck.Require(OodMnistPath is null || OodMnistPath.Trim().Length > 0, nameof(OodMnistPath), "is empty");
    }
}
