using StatFormer.Data;

namespace StatFormer.Fairness.Data;

/// <summary>
/// The tabular fairness benchmarks, UCI Adult and ProPublica COMPAS, as binary-target <see cref="FairDataset"/>s.
/// Common encoding: numeric columns standardised with train statistics, categorical columns one-hot over the train
/// categories (an unseen test category is all zeros), the chosen sensitive column(s) removed from the inputs and
/// turned into z = concatenated one-hots, with group id = the id of the category combination (sex most significant).
/// </summary>
public static class TabularFairData
{
    /// <summary>Adult's 15 columns, in file order (adult.names).</summary>
    public static IReadOnlyList<string> AdultColumns { get; } =
    [
        "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation", "relationship",
        "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
    ];

    private static readonly string[] AdultNumeric = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"];
    private static readonly string[] AdultCategorical =
        ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country"];

    /// <summary>The COMPAS columns used as inputs (never names, birth dates, ids, or the COMPAS scores themselves).</summary>
    public static IReadOnlyList<string> CompasNumeric { get; } =
        ["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count"];

    /// <summary>The categorical COMPAS input columns.</summary>
    public static IReadOnlyList<string> CompasCategorical { get; } = ["c_charge_degree", "age_cat"];

    /// <summary>
    /// UCI Adult: <c>adult.data</c> is the train split and <c>adult.test</c> the test split (its banner line 1, which
    /// starts with '|', is skipped, and the trailing '.' of its labels is stripped). Fields are comma-separated and
    /// trimmed; blank lines are skipped; every row needs 15 fields. Missing values ('?') are kept as their own
    /// category "?" (rows are not dropped: 32,561 train and 16,281 test rows). Target: income &gt;50K = 1.
    /// Inputs: 6 standardised numeric columns (fnlwgt included) and the one-hot categorical columns except the
    /// sensitive one(s).
    /// </summary>
    public static FairDataset LoadAdult(string dir, SensitiveAttribute sensitive)
    {
        var sensitiveColumns = SensitiveColumns(sensitive);
        ArgumentException.ThrowIfNullOrEmpty(dir);
        var train = ReadAdultFile(RequireFile(dir, "adult.data", "Adult"), isTestFile: false);
        var test = ReadAdultFile(RequireFile(dir, "adult.test", "Adult"), isTestFile: true);
        return TabularEncoding.Build("adult", $"UCI Adult ({dir})", train, test, AdultNumeric,
            AdultCategorical.Except(sensitiveColumns).ToArray(), sensitiveColumns);
    }

    /// <summary>
    /// ProPublica COMPAS (<c>compas-scores-two-years.csv</c>, all 7,214 rows of the unfiltered file), split 80/20 into
    /// train/test by a <paramref name="seed"/>ed shuffle. Inputs: age, juv_fel_count, juv_misd_count, juv_other_count,
    /// priors_count (standardised) and one-hot c_charge_degree and age_cat. Target: two_year_recid. The file's name,
    /// birth-date and id columns and the COMPAS scores are never read into the dataset, and error messages never quote rows.
    /// </summary>
    public static FairDataset LoadCompas(string dir, SensitiveAttribute sensitive, int seed)
    {
        var sensitiveColumns = SensitiveColumns(sensitive);
        ArgumentException.ThrowIfNullOrEmpty(dir);
        var path = RequireFile(dir, "compas-scores-two-years.csv", "COMPAS");
        var rows = ReadCompasFile(path, sensitiveColumns);

        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        var trainCount = (int)Math.Round(0.8 * rows.Count);
        var train = order[..trainCount].Select(i => rows[i]).ToArray();
        var test = order[trainCount..].Select(i => rows[i]).ToArray();
        return TabularEncoding.Build("compas", $"ProPublica COMPAS two-year ({path}, 80/20 split, seed {seed})", train, test,
            CompasNumeric, CompasCategorical, sensitiveColumns);
    }

    private static string[] SensitiveColumns(SensitiveAttribute sensitive)
    {
        if (sensitive == 0 || (sensitive & ~(SensitiveAttribute.Sex | SensitiveAttribute.Race)) != 0)
            throw new ArgumentException($"sensitive must be Sex, Race or both, got {sensitive}", nameof(sensitive));
        var columns = new List<string>();
        if (sensitive.HasFlag(SensitiveAttribute.Sex)) columns.Add("sex");
        if (sensitive.HasFlag(SensitiveAttribute.Race)) columns.Add("race");
        return columns.ToArray();
    }

    private static string RequireFile(string dir, string file, string dataset)
    {
        var path = Path.Combine(dir, file);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{dataset} needs the file {path}, which does not exist.", path);
        return path;
    }

    private static List<TabularRow> ReadAdultFile(string path, bool isTestFile)
    {
        var rows = new List<TabularRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (isTestFile && lineNumber == 1 && line.StartsWith('|')) continue;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split(',').Select(f => f.Trim()).ToArray();
            if (fields.Length != AdultColumns.Count)
                throw new InvalidDataException(
                    $"{path}, line {lineNumber}: expected {AdultColumns.Count} comma-separated fields, found {fields.Length}.");
            var values = new Dictionary<string, string>(AdultColumns.Count, StringComparer.Ordinal);
            for (var j = 0; j < fields.Length; j++) values[AdultColumns[j]] = fields[j];
            var label = fields[^1].TrimEnd('.');
            long target = label switch
            {
                ">50K" => 1,
                "<=50K" => 0,
                _ => throw new InvalidDataException($"{path}, line {lineNumber}: income must be '>50K' or '<=50K', found '{fields[^1]}'."),
            };
            rows.Add(new TabularRow(path, lineNumber, values, target));
        }
        return rows;
    }

    private static List<TabularRow> ReadCompasFile(string path, string[] sensitiveColumns)
    {
        string[]? header = null;
        var needed = CompasNumeric.Concat(CompasCategorical).Concat(sensitiveColumns).Append("two_year_recid").ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<TabularRow>();
        foreach (var record in CsvReader.Read(path))
        {
            if (header is null)
            {
                header = record.Fields.Select(f => f.Trim()).ToArray();
                foreach (var column in needed)
                {
                    // The file repeats some column names (priors_count, decile_score); the first occurrence is used.
                    var at = Array.IndexOf(header, column);
                    if (at < 0) throw new InvalidDataException($"{path}: the header has no column '{column}'.");
                    index[column] = at;
                }
                continue;
            }
            if (record.Fields.Length != header.Length)
                throw new InvalidDataException(
                    $"{path}, line {record.Line}: expected {header.Length} comma-separated fields, found {record.Fields.Length}.");
            var values = needed.ToDictionary(c => c, c => record.Fields[index[c]].Trim(), StringComparer.Ordinal);
            long target = values["two_year_recid"] switch
            {
                "1" => 1,
                "0" => 0,
                var other => throw new InvalidDataException($"{path}, line {record.Line}: two_year_recid must be 0 or 1, found '{other}'."),
            };
            rows.Add(new TabularRow(path, record.Line, values, target));
        }
        if (header is null) throw new InvalidDataException($"{path}: the file is empty.");
        if (rows.Count < 2) throw new InvalidDataException($"{path}: need at least 2 data rows for a train/test split, found {rows.Count}.");
        return rows;
    }
}
