using System.Buffers;
using System.Text.Unicode;
using System.Text;

namespace StatFormer.Language.Data;

/// <summary>
/// Loads a <see cref="TextCorpus"/> from disk: either a WikiText directory (used as published)
/// or one plain UTF-8 text file split by whole lines.
/// </summary>
public static class CorpusLoader
{
    public static readonly IReadOnlyList<string> WikiTextFiles = ["wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"];

    /// <summary>
    /// A directory must hold <see cref="WikiTextFiles"/>. A file is split contiguously (no
    /// shuffling, as is usual for language modelling): the first lines are train, then
    /// <paramref name="validFraction"/> of the lines for validation, then
    /// <paramref name="testFraction"/> for test.
    /// </summary>
    public static TextCorpus Load(string path, double validFraction = 0.05, double testFraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) return LoadWikiText(path);
        if (!File.Exists(path)) throw new UserInputException($"{path}: no such file or directory");
        return LoadPlainText(path, validFraction, testFraction);
    }

    /// <summary>
    /// Reads a whole file as strict UTF-8 (a leading byte-order mark is dropped). Invalid bytes
    /// are reported with the line they are on, rather than silently replaced.
    /// </summary>
    public static string ReadUtf8Text(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new UserInputException($"{path}: no such file");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{path}: cannot read file ({e.Message})", e);
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            var (line, offset) = FirstInvalidByte(bytes);
            throw new UserInputException($"{path}:{line}: not valid UTF-8 (first bad byte at offset {offset})", e);
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

    private static TextCorpus LoadWikiText(string directory)
    {
        var missing = WikiTextFiles.Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
        if (missing.Count > 0)
            throw new UserInputException(
                $"{directory}: directory is not a WikiText corpus; missing {string.Join(", ", missing)}");

        var parts = WikiTextFiles.Select(f =>
        {
            var file = Path.Combine(directory, f);
            var text = ReadUtf8Text(file);
            if (string.IsNullOrWhiteSpace(text)) throw new UserInputException($"{file}: file is empty");
            return text;
        }).ToArray();
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        return new TextCorpus(name, parts[0], parts[1], parts[2]);
    }

    private static TextCorpus LoadPlainText(string file, double validFraction, double testFraction)
    {
        if (!(validFraction > 0 && validFraction < 1))
            throw new UserInputException($"valid fraction must be between 0 and 1 (got {validFraction})");
        if (!(testFraction > 0 && testFraction < 1))
            throw new UserInputException($"test fraction must be between 0 and 1 (got {testFraction})");
        if (validFraction + testFraction >= 1)
            throw new UserInputException(
                $"valid fraction + test fraction must be below 1 to leave training data (got {validFraction} + {testFraction})");

        var text = ReadUtf8Text(file);
        if (string.IsNullOrWhiteSpace(text)) throw new UserInputException($"{file}: file is empty");

        // Offsets where each line starts; a final newline does not start another line.
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < text.Length - 1; i++)
            if (text[i] == '\n') lineStarts.Add(i + 1);
        var lines = lineStarts.Count;

        var validLines = (int)Math.Round(lines * validFraction, MidpointRounding.AwayFromZero);
        var testLines = (int)Math.Round(lines * testFraction, MidpointRounding.AwayFromZero);
        var trainLines = lines - validLines - testLines;
        if (validLines == 0 || testLines == 0 || trainLines <= 0)
            throw new UserInputException(
                $"{file}: too short to split into train/valid/test: it has {lines} line(s), " +
                $"giving {trainLines}/{validLines}/{testLines} line(s) with fractions {validFraction}/{testFraction}");

        var validStart = lineStarts[trainLines];
        var testStart = lineStarts[trainLines + validLines];
        var name = $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file)))}/{Path.GetFileName(file)}";
        return new TextCorpus(name, text[..validStart], text[validStart..testStart], text[testStart..]);
    }
}
