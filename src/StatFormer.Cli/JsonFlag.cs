using System.CommandLine;

namespace StatFormer.Cli;

/// <summary>The --json switch of every command that prints a table.</summary>
public static class JsonFlag
{
    public static Option<bool> Add(Command command)
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout instead of a table." };
        command.Options.Add(json);
        return json;
    }
}
