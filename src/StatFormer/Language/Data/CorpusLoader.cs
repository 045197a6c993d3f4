using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace StatFormer.Language.Data;

/// <summary>
/// Loads a <see cref="TextCorpus"/> from disk: a folder holding the three splits (WikiText's
/// <c>wiki.{train,valid,test}.tokens</c>, pytorch/examples' <c>{train,valid,test}.txt</c>, or any three
/// files named <c>*train*</c>, <c>*valid*</c>/<c>*val*</c>/<c>*dev*</c>, <c>*test*</c>), three given
/// files, or one plain UTF-8 text file split by whole lines.
/// </summary>
public static class CorpusLoader
{
    public static readonly IReadOnlyList<string> WikiTextFiles = ["wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"];

    /// <summary>The split files of the word-language-model example of pytorch/examples.</summary>
    public static readonly IReadOnlyList<string> PlainSplitFiles = ["train.txt", "valid.txt", "test.txt"];

    /// <summary>What a split file's name contains (case-insensitive), per split, when a folder has neither fixed layout.</summary>
    private static readonly (string Split, string[] Markers)[] SplitMarkers =
    [
        ("train", ["train"]),
        ("valid", ["valid", "val", "dev"]),
        ("test", ["test"]),
    ];

    /// <summary>
    /// A folder is read as its three split files (<see cref="SplitFiles"/>). A file is split contiguously (no
    /// shuffling, as is usual for language modelling): the first lines are train, then
    /// <paramref name="validFraction"/> of the lines for validation, then <paramref name="testFraction"/> for test.
    /// </summary>
    public static TextCorpus Load(string path, double validFraction = 0.05, double testFraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            var (train, valid, test) = SplitFiles(path);
            return LoadSplits(train, valid, test, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))));
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or directory", path);
        return LoadPlainText(path, validFraction, testFraction);
    }

    /// <summary>Three files used as the train, validation and test text, as they are; <paramref name="name"/> names the corpus in reports.</summary>
    public static TextCorpus LoadSplits(string trainFile, string validFile, string testFile, string? name = null)
    {
        var parts = new[] { trainFile, validFile, testFile }.Select(file =>
        {
            var text = ReadUtf8Text(file);
            if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{file}: file is empty");
            return text;
        }).ToArray();
        name ??= Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(trainFile))) ?? Path.GetFileName(trainFile);
        return new TextCorpus(name, parts[0], parts[1], parts[2]);
    }

    /// <summary>
    /// The train, validation and test files of a corpus folder: <see cref="WikiTextFiles"/>, else
    /// <see cref="PlainSplitFiles"/>, else the one file per split whose name contains its marker
    /// (train; valid, val or dev; test).
    /// </summary>
    /// <exception cref="InvalidDataException">No split, or more than one, has a file; the message names the folder and the candidates.</exception>
    public static (string Train, string Valid, string Test) SplitFiles(string directory)
    {
        foreach (var layout in new[] { WikiTextFiles, PlainSplitFiles })
        {
            var files = layout.Select(f => Path.Combine(directory, f)).ToArray();
            if (files.All(File.Exists)) return (files[0], files[1], files[2]);
        }
        var names = Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        var candidates = SplitMarkers.Select(split => (split.Split, Files: names
            .Where(n => split.Markers.Any(m => n.Contains(m, StringComparison.OrdinalIgnoreCase))).ToList())).ToList();
        if (candidates.All(c => c.Files.Count == 1))
            return (Path.Combine(directory, candidates[0].Files[0]), Path.Combine(directory, candidates[1].Files[0]), Path.Combine(directory, candidates[2].Files[0]));
        var found = string.Join("; ", candidates.Select(c => $"{c.Split}: {(c.Files.Count == 0 ? "none" : string.Join(", ", c.Files))}"));
        var problem = candidates.Any(c => c.Files.Count > 1) ? "more than one candidate file for a split" : "a split has no file";
        throw new InvalidDataException(
            $"{directory}: cannot tell its train, valid and test files apart ({problem}; {found}). Expected wiki.{{train,valid,test}}.tokens, " +
            "{train,valid,test}.txt or one file each named *train*, *valid*/*val*/*dev*, *test*; or give the three files explicitly");
    }

    /// <summary>
    /// Reads a whole file as strict UTF-8 (a leading byte-order mark is dropped). Invalid bytes
    /// are reported with the line they are on, rather than silently replaced.
    /// </summary>
    public static string ReadUtf8Text(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read file ({e.Message})", e);
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            var (line, offset) = FirstInvalidByte(bytes);
            throw new InvalidDataException($"{path}:{line}: not valid UTF-8 (first bad byte at offset {offset})", e);
        }
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    private static (int Line, int Offset) FirstInvalidByte(byte[] bytes)
    {
        var scratch = ArrayPool<char>.Shared.Rent(bytes.Length + 1);
        try
        {
            Utf8.ToUtf16(bytes, scratch, out var valid, out _, replaceInvalidSequences: false);
            return (1 + bytes.AsSpan(0, valid).Count((byte)'\n'), valid);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(scratch);
        }
    }

    private static TextCorpus LoadPlainText(string file, double validFraction, double testFraction)
    {
        if (!(validFraction > 0 && validFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validFraction), validFraction, "must be between 0 and 1");
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "must be between 0 and 1");
        if (validFraction + testFraction >= 1)
            throw new ArgumentException(
                $"valid fraction + test fraction must be below 1 to leave training data (got {validFraction} + {testFraction})", nameof(testFraction));

        var text = ReadUtf8Text(file);
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidDataException($"{file}: file is empty");

        // Offsets where each line starts; a final newline does not start another line.
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < text.Length - 1; i++)
            if (text[i] == '\n') lineStarts.Add(i + 1);
        var lines = lineStarts.Count;

        var validLines = (int)Math.Round(lines * validFraction, MidpointRounding.AwayFromZero);
        var testLines = (int)Math.Round(lines * testFraction, MidpointRounding.AwayFromZero);
        var trainLines = lines - validLines - testLines;
        if (validLines == 0 || testLines == 0 || trainLines <= 0)
            throw new InvalidDataException(
                $"{file}: too short to split into train/valid/test: it has {lines} line(s), " +
                $"giving {trainLines}/{validLines}/{testLines} line(s) with fractions {validFraction}/{testFraction}");

        var validStart = lineStarts[trainLines];
        var testStart = lineStarts[trainLines + validLines];
        var name = $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file)))}/{Path.GetFileName(file)}";
        return new TextCorpus(name, text[..validStart], text[validStart..testStart], text[testStart..]);
    }
}
