namespace StatFormer.Contrastive;

/// <summary>The command-line spelling of each <see cref="ContrastiveMethod"/>: infonce, fair-infonce, cclk, fare, sparse-fare.</summary>
public static class ContrastiveMethodNames
{
    private static readonly (ContrastiveMethod Method, string Name)[] Table =
    {
        (ContrastiveMethod.InfoNce, "infonce"),
        (ContrastiveMethod.FairInfoNce, "fair-infonce"),
        (ContrastiveMethod.Cclk, "cclk"),
        (ContrastiveMethod.Fare, "fare"),
        (ContrastiveMethod.SparseFare, "sparse-fare"),
    };

    /// <summary>Every valid name, in the enum's order.</summary>
    public static IReadOnlyList<string> All { get; } = Table.Select(entry => entry.Name).ToArray();

    public static string Name(ContrastiveMethod method)
    {
        foreach (var entry in Table)
            if (entry.Method == method) return entry.Name;
        throw new ArgumentOutOfRangeException(nameof(method), method, "not a contrastive method");
    }

    /// <summary>The method called <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="optionName">The option the name came from, for the error message.</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid ones.</exception>
    public static ContrastiveMethod Parse(string name, string optionName = "--method")
    {
        var trimmed = name?.Trim() ?? "";
        foreach (var entry in Table)
            if (string.Equals(entry.Name, trimmed, StringComparison.OrdinalIgnoreCase)) return entry.Method;
        throw new ArgumentException($"{optionName}: unknown contrastive method '{name}' (valid: {string.Join(", ", All)})", optionName);
    }
}
