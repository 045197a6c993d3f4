namespace StatFormer.Options;

/// <summary>
/// Validation of option records. A bad value throws an ordinary <see cref="ArgumentException"/> whose
/// <see cref="ArgumentException.ParamName"/> is the property's path in the options tree
/// (e.g. <c>Model.Stack.Heads</c>), so a C# caller sees which property is wrong and the CLI can
/// name the matching flag without the library knowing about flags.
/// </summary>
public static class OptionCheck
{
    /// <summary>Throws <see cref="ArgumentException"/>(<paramref name="reason"/>, <paramref name="property"/>) unless <paramref name="ok"/>.</summary>
    public static void Require(bool ok, string property, string reason)
    {
        if (!ok) throw new ArgumentException(reason, property);
    }

    /// <summary>
    /// Runs a nested record's validation and prefixes the property path of what it throws with
    /// <paramref name="prefix"/>, so <c>Stack.Heads</c> inside <c>Model</c> reports as <c>Model.Stack.Heads</c>.
    /// </summary>
    public static void Nested(string prefix, Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e) when (e.ParamName is not null)
        {
            throw new ArgumentException(ReasonOf(e), $"{prefix}.{e.ParamName}", e);
        }
    }

    /// <summary>The reason of a validation failure: the message without .NET's "(Parameter 'X')" suffix.</summary>
    public static string ReasonOf(ArgumentException e)
    {
        var suffix = $" (Parameter '{e.ParamName}')";
        return e.ParamName is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }
}
