using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace StatFormer.Options;

/// <summary>
/// Gives an enum member a command-line name other than the kebab-case of its C# name, for the few
/// spellings users already know (<c>oov</c>, <c>infonce</c>, <c>batch</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class CliNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// The one mapping between enum values and their names: kebab-case on the command line and in
/// variant names (<c>AcSmoe</c> → <c>ac-smoe</c>, unless a member carries <see cref="CliNameAttribute"/>),
/// snake_case in JSON and reports (<c>OutOfVocabulary</c> → <c>out_of_vocabulary</c>, the rule of
/// <see cref="Reporting.JsonOutput"/>'s enum converter). Parsing accepts either spelling, case-insensitively.
/// </summary>
public static class EnumNames
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<(Enum Value, string Cli, string Json)>> Tables = new();

    /// <summary>The command-line name of <paramref name="value"/>.</summary>
    public static string Cli<T>(T value) where T : struct, Enum => Entry(value).Cli;

    /// <summary>The JSON (snake_case) name of <paramref name="value"/>, as result files spell it.</summary>
    public static string Json<T>(T value) where T : struct, Enum => Entry(value).Json;

    /// <inheritdoc cref="Cli{T}"/>
    public static string Cli(Enum value) => Table(value.GetType()).First(e => e.Value.Equals(value)).Cli;

    /// <inheritdoc cref="Json{T}"/>
    public static string Json(Enum value) => Table(value.GetType()).First(e => e.Value.Equals(value)).Json;

    /// <summary>Every command-line name of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> CliNames<T>() where T : struct, Enum => CliNames(typeof(T));

    /// <inheritdoc cref="CliNames{T}"/>
    public static IReadOnlyList<string> CliNames(Type enumType) => Table(enumType).Select(e => e.Cli).ToArray();

    /// <summary>
    /// The value named <paramref name="text"/> (its CLI or JSON name, any case, surrounding spaces ignored).
    /// </summary>
    /// <param name="property">The option property the text is for; the ParamName of the exception.</param>
    /// <exception cref="ArgumentException">Unknown name; the message lists the accepted ones.</exception>
    public static T Parse<T>(string text, string? property = null) where T : struct, Enum => (T)Parse(typeof(T), text, property);

    /// <inheritdoc cref="Parse{T}"/>
    public static Enum Parse(Type enumType, string text, string? property = null) =>
        TryParse(enumType, text) ?? throw new ArgumentException(
            $"'{text}' is not one of: {string.Join(", ", CliNames(enumType))}", property);

    /// <summary>The value named <paramref name="text"/>, or null when no member has that name.</summary>
    public static Enum? TryParse(Type enumType, string? text)
    {
        var trimmed = text?.Trim() ?? "";
        foreach (var (value, cli, json) in Table(enumType))
            if (string.Equals(cli, trimmed, StringComparison.OrdinalIgnoreCase) || string.Equals(json, trimmed, StringComparison.OrdinalIgnoreCase))
                return value;
        return null;
    }

    private static (Enum Value, string Cli, string Json) Entry<T>(T value) where T : struct, Enum
    {
        foreach (var entry in Table(typeof(T)))
            if (entry.Value.Equals(value)) return entry;
        throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(T).Name}");
    }

    private static IReadOnlyList<(Enum Value, string Cli, string Json)> Table(Type enumType) => Tables.GetOrAdd(enumType, type =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Select(field => (
            (Enum)field.GetValue(null)!,
            field.GetCustomAttribute<CliNameAttribute>()?.Name ?? JsonNamingPolicy.KebabCaseLower.ConvertName(field.Name),
            JsonNamingPolicy.SnakeCaseLower.ConvertName(field.Name))).ToArray());
}
