using Spectre.Console;
using StatFormer.Reporting;

namespace StatFormer.Cli;

/// <summary>stdout: either a table for people or (with --json) the same content as JSON for programs.</summary>
public static class Output
{
    public static void Table(string title, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        // Redirected output has no terminal width; Spectre would assume 80 columns and wrap every cell.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        foreach (var column in header) table.AddColumn(new TableColumn(Markup.Escape(column)).RightAligned());
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }

    public static void Json<T>(T value) => Console.Out.WriteLine(JsonOutput.Serialize(value));

    public static void Line(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));
}
