using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using StatFormer.Options;
using StatFormer.Reporting;

namespace StatFormer.Cli;

/// <summary>
/// The command-line options of an options tree <typeparamref name="T"/>, built from <see cref="OptionFlag"/> rows,
/// and how to read them: the command's baseline tree, overlaid by <c>--config FILE.json</c> (the same tree as JSON,
/// as summary.json records it under "options"), overlaid by the flags given on the command line. Values travel as
/// JSON, so one deserialisation builds the immutable tree and every property reads files and flags the same way.
/// </summary>
public sealed class OptionTree<T> where T : class
{
    private readonly List<(OptionFlag Flag, Option Option, Func<ParseResult, JsonNode?> Read)> _flags = [];

    /// <param name="flags">The rows of <see cref="OptionFlags"/> this command offers.</param>
    /// <param name="baseline">The command's defaults (shown in the help).</param>
    public OptionTree(IEnumerable<OptionFlag> flags, T baseline)
    {
        var defaults = JsonSerializer.SerializeToNode(baseline, JsonOutput.Options)!;
        foreach (var flag in flags) _flags.Add(Build(flag, PropertyAt(flag.Path), NodeAt(defaults, flag.Path)));
    }

    /// <summary>The run options tree as a JSON file; flags given on the command line override it.</summary>
    public Option<string?> Config { get; } = new("--config")
    {
        Description = "A JSON file with the run's options tree (data, model, train, eval, attack, output; as summary.json records it under \"options\"); flags given on the command line override it.",
    };

    /// <param name="withConfig">Whether the command takes --config (run commands do; benchmarks do not).</param>
    public void AddTo(Command command, bool withConfig = true)
    {
        foreach (var (_, option, _) in _flags) command.Options.Add(option);
        if (withConfig) command.Options.Add(Config);
    }

    /// <summary>The tree: <paramref name="baseline"/>, then the --config file, then the given flags.</summary>
    /// <exception cref="InvalidDataException">The config file is not JSON of this tree; the message names the file and key.</exception>
    /// <exception cref="ArgumentException">A flag's value does not fit its property; ParamName is the property's path.</exception>
    public T Read(ParseResult result, T baseline)
    {
        var tree = JsonSerializer.SerializeToNode(baseline, JsonOutput.Options)!.AsObject();
        var file = result.GetValue(Config);
        if (file is not null) Overlay(tree, ReadConfig(file), file, "");
        foreach (var (flag, option, read) in _flags)
            if (result.GetResult(option) is { Implicit: false }) Set(tree, flag.Path, read(result));
        try
        {
            return tree.Deserialize<T>(JsonOutput.Options) ?? throw new InvalidDataException("empty options");
        }
        catch (JsonException e)
        {
            // Only a config value can be of the wrong JSON type: flags are converted by their property's type.
            throw new InvalidDataException($"{file}: key '{KeyOf(e.Path)}' has a value of the wrong type ({e.Message})", e);
        }
    }

    private static JsonObject ReadConfig(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no such file", file);
        try
        {
            return JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new InvalidDataException($"{file}: must hold a JSON object (the options tree)");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Copies <paramref name="source"/>'s values into <paramref name="target"/>; a key the tree does not have is an error.</summary>
    private static void Overlay(JsonObject target, JsonObject source, string file, string prefix)
    {
        foreach (var (key, value) in source.ToList())
        {
            if (!target.ContainsKey(key))
                throw new InvalidDataException($"{file}: unknown key '{prefix}{key}' (known here: {string.Join(", ", target.Select(p => p.Key))})");
            if (value is JsonObject child && target[key] is JsonObject existing) Overlay(existing, child, file, $"{prefix}{key}.");
            else target[key] = value?.DeepClone();
        }
    }

    private static void Set(JsonObject tree, string path, JsonNode? value)
    {
        var keys = path.Split('.').Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToArray();
        var node = tree;
        foreach (var key in keys[..^1]) node = node[key] as JsonObject ?? (JsonObject)(node[key] = new JsonObject());
        node[keys[^1]] = value;
    }

    private static JsonNode? NodeAt(JsonNode tree, string path)
    {
        JsonNode? node = tree;
        foreach (var key in path.Split('.').Select(JsonNamingPolicy.SnakeCaseLower.ConvertName)) node = node?[key];
        return node;
    }

    private static string KeyOf(string? jsonPath) => (jsonPath ?? "$").TrimStart('$').TrimStart('.');

    private static PropertyInfo PropertyAt(string path)
    {
        var type = typeof(T);
        PropertyInfo? property = null;
        foreach (var name in path.Split('.'))
        {
            property = type.GetProperty(name) ?? throw new InvalidOperationException($"{typeof(T).Name} has no property {path}");
            type = property.PropertyType;
        }
        return property!;
    }

    /// <summary>The System.CommandLine option of one row, typed by its property, and how to turn its value into JSON.</summary>
    private static (OptionFlag, Option, Func<ParseResult, JsonNode?>) Build(OptionFlag flag, PropertyInfo property, JsonNode? defaultValue)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var shown = defaultValue?.ToJsonString().Trim('"');
        if (type == typeof(bool))
        {
            var option = new Option<bool>(flag.Name, flag.Names[1..]) { Description = flag.Description };
            return (flag, option, r => JsonValue.Create(r.GetValue(option) != flag.Inverted));
        }
        if (type == typeof(int) || type == typeof(double))
        {
            var option = new Option<string>(flag.Name, flag.Names[1..]) { Description = flag.Description, HelpName = type == typeof(int) ? "int" : "number" };
            if (shown is not null) option.DefaultValueFactory = _ => shown;
            return (flag, option, r => Number(flag, type, r.GetValue(option)!));
        }
        if (type.IsEnum)
        {
            var names = EnumNames.CliNames(type);
            var option = Choice(flag, names, shown is null ? null : EnumNames.Cli(EnumNames.Parse(type, shown)));
            return (flag, option, r => JsonValue.Create(EnumNames.Json(EnumNames.Parse(type, r.GetValue(option)!, flag.Path))));
        }
        if (type == typeof(string))
        {
            var option = flag.Choices is { } choices ? Choice(flag, choices, shown) : new Option<string>(flag.Name, flag.Names[1..]) { Description = flag.Description };
            if (shown is not null && flag.Choices is null) option.DefaultValueFactory = _ => shown;
            return (flag, option, r => JsonValue.Create(r.GetValue(option)));
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var element = type.GetGenericArguments()[0];
            var option = new Option<string>(flag.Name, flag.Names[1..]) { Description = flag.Description };
            if (defaultValue is JsonArray list)
            {
                // As the flag is written: strings unquoted, enum members by their CLI names.
                var text = string.Join(",", list.Select(v => element == typeof(string) ? v!.GetValue<string>()
                    : element.IsEnum ? EnumNames.Cli((Enum)v.Deserialize(element, JsonOutput.Options)!) : v!.ToJsonString()));
                option.DefaultValueFactory = _ => text;
            }
            return (flag, option, r => new JsonArray(r.GetValue(option)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(part => Number(flag, element, part)).ToArray()));
        }
        throw new InvalidOperationException($"no command-line form for {property.PropertyType.Name} ({flag.Path})");
    }

    private static Option<string> Choice(OptionFlag flag, IReadOnlyList<string> values, string? defaultValue)
    {
        var option = new Option<string>(flag.Name, flag.Names[1..]) { Description = $"{flag.Description} One of: {string.Join(", ", values)}." };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        option.AcceptOnlyFromAmong([.. values]);
        return option;
    }

    /// <summary>One element of a comma-separated list flag: a number, a string as given, or an enum member by its CLI name.</summary>
    /// <exception cref="ArgumentException">Not a number of <paramref name="type"/> or not a member of the enum; ParamName is the property's path.</exception>
    private static JsonNode? Number(OptionFlag flag, Type type, string text)
    {
        if (type == typeof(string)) return JsonValue.Create(text);
        if (type.IsEnum) return JsonValue.Create(EnumNames.Json(EnumNames.Parse(type, text, flag.Path)));
        if (type == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
            return flag.ZeroMeansNull && i == 0 ? null : JsonValue.Create(i);
        if (type == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            return JsonValue.Create(d);
        // A fraction such as 8/255, the usual way to write an attack's ε.
        if (type == typeof(double) && text.Split('/') is [var numerator, var denominator]
            && double.TryParse(numerator, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            && double.TryParse(denominator, NumberStyles.Float, CultureInfo.InvariantCulture, out var q) && q != 0 && double.IsFinite(n / q))
            return JsonValue.Create(n / q);
        throw new ArgumentException($"'{text}' is not {(type == typeof(int) ? "an integer" : "a finite number or fraction")}", flag.Path);
    }
}
