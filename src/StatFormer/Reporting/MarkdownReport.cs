using System.Text;
using StatFormer.IO;

namespace StatFormer.Reporting;

/// <summary>Builds a GitHub-flavoured Markdown report block by block; blocks are separated by blank lines.</summary>
public sealed class MarkdownReport
{
    private readonly StringBuilder _text = new();

    public MarkdownReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        Heading(title, 1);
    }

    /// <param name="level">1 (title) to 6.</param>
    public void Heading(string text, int level = 2)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 6);
        Block(new string('#', level) + " " + SingleLine(text));
    }

    public void Paragraph(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Block(text.TrimEnd());
    }

    /// <summary>A pipe table; cells have '|' escaped and line breaks flattened, and every row must match the header's width.</summary>
    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        if (header.Count == 0) throw new ArgumentException("A table needs at least one column.", nameof(header));

        var table = new StringBuilder();
        AppendRow(table, header);
        table.Append('|').Append(string.Concat(Enumerable.Repeat(" --- |", header.Count))).Append('\n');
        int index = 0;
        foreach (var row in rows)
        {
            if (row.Count != header.Count)
                throw new ArgumentException($"Table row {index} has {row.Count} cells, the header has {header.Count}.", nameof(rows));
            AppendRow(table, row);
            index++;
        }
        Block(table.ToString().TrimEnd('\n'));
    }

    /// <summary>An image link; <paramref name="relativePath"/> is relative to where the report is saved.</summary>
    public void Image(string altText, string relativePath)
    {
        ArgumentNullException.ThrowIfNull(altText);
        ArgumentNullException.ThrowIfNull(relativePath);
        var alt = SingleLine(altText).Replace("[", "\\[").Replace("]", "\\]");
        // Markdown links end at whitespace or ')', and Windows separators are not URL separators.
        var target = relativePath.Replace('\\', '/').Replace(" ", "%20").Replace("(", "%28").Replace(")", "%29");
        Block($"![{alt}]({target})");
    }

    public override string ToString() => _text.ToString();

    /// <summary>Writes the report atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToString());

    private void Block(string content)
    {
        if (_text.Length > 0) _text.Append('\n');
        _text.Append(content).Append('\n');
    }

    private static void AppendRow(StringBuilder table, IReadOnlyList<string> cells)
    {
        table.Append('|');
        foreach (var cell in cells) table.Append(' ').Append(EscapeCell(cell ?? "")).Append(" |");
        table.Append('\n');
    }

    private static string EscapeCell(string cell) => SingleLine(cell).Replace("|", "\\|");

    private static string SingleLine(string text) => text.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');
}
