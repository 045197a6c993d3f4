using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Data;

/// <summary>One parsed table row: its source file and line (for error messages), its named fields and its 0/1 target.</summary>
internal sealed record TabularRow(string File, int Line, IReadOnlyDictionary<string, string> Values, long Target);

/// <summary>
/// Turns parsed rows into a binary-target tabular <see cref="FairDataset"/>: numeric columns standardised with train
/// mean/population std (std 1 for constant columns), categorical columns one-hot over the categories seen in train
/// (sorted ordinally; a test category unseen in train encodes as all zeros). The sensitive columns are not inputs:
/// z is the concatenation of their one-hots (categories from train ∪ test, so every row has a group) and the group id
/// is the mixed-radix id of the category combination (first column most significant).
/// </summary>
internal static class TabularEncoding
{
    public static FairDataset Build(
        string name, string source, IReadOnlyList<TabularRow> train, IReadOnlyList<TabularRow> test,
        IReadOnlyList<string> numericColumns, IReadOnlyList<string> categoricalColumns, IReadOnlyList<string> sensitiveColumns)
    {
        if (train.Count == 0) throw new InvalidDataException($"{source}: no training rows.");
        if (test.Count == 0) throw new InvalidDataException($"{source}: no test rows.");

        var numericTrain = numericColumns.Select(c => ParseNumbers(train, c)).ToArray();
        var numericTest = numericColumns.Select(c => ParseNumbers(test, c)).ToArray();
        var means = numericTrain.Select(v => v.Average()).ToArray();
        var stds = numericTrain.Select((v, j) =>
        {
            var sd = Math.Sqrt(v.Select(x => (x - means[j]) * (x - means[j])).Average());
            return sd > 1e-12 ? sd : 1.0;
        }).ToArray();
        var categories = categoricalColumns.Select(c => Categories(train, c)).ToArray();

        var featureNames = numericColumns
            .Concat(categoricalColumns.SelectMany((c, j) => categories[j].Select(v => $"{c}={v}")))
            .ToArray();

        var sensitiveCategories = sensitiveColumns.Select(c => Categories(train.Concat(test), c)).ToArray();
        var sensitiveNames = sensitiveColumns.SelectMany((c, j) => sensitiveCategories[j].Select(v => $"{c}={v}")).ToArray();
        var groupNames = GroupNames(sensitiveCategories);

        var trainSplit = Split(train, numericTrain, means, stds, categoricalColumns, categories, featureNames.Length,
            sensitiveColumns, sensitiveCategories);
        FairSplit? testSplit = null;
        try
        {
            testSplit = Split(test, numericTest, means, stds, categoricalColumns, categories, featureNames.Length,
                sensitiveColumns, sensitiveCategories);
            var positiveRate = train.Average(r => (double)r.Target);
            var description =
                $"{source}: {train.Count} train / {test.Count} test rows; {featureNames.Length} input features from " +
                $"{numericColumns.Count} standardised numeric columns ({string.Join(", ", numericColumns)}) and " +
                $"{categoricalColumns.Count} one-hot categorical columns ({string.Join(", ", categoricalColumns)}); " +
                $"z = one-hot {string.Join(" + ", sensitiveColumns)} ({sensitiveNames.Length} dims, {groupNames.Length} groups), " +
                $"excluded from the inputs; train positive rate {positiveRate:F3}.";
            return new FairDataset(name, FairInputKind.Tabular, trainSplit, testSplit, numClasses: 2, sensitiveIsContinuous: false,
                groupNames, sensitiveNames, featureNames, description);
        }
        catch
        {
            trainSplit.Dispose();
            testSplit?.Dispose();
            throw;
        }
    }

    private static FairSplit Split(
        IReadOnlyList<TabularRow> rows, double[][] numeric, double[] means, double[] stds,
        IReadOnlyList<string> categoricalColumns, string[][] categories, int featureCount,
        IReadOnlyList<string> sensitiveColumns, string[][] sensitiveCategories)
    {
        var n = rows.Count;
        var features = new float[n * featureCount];
        var sensitiveDim = sensitiveCategories.Sum(c => c.Length);
        var sensitive = new float[n * sensitiveDim];
        var groups = new long[n];
        var targets = new long[n];
        var categoryIndex = categories.Select(ToIndex).ToArray();
        var sensitiveIndex = sensitiveCategories.Select(ToIndex).ToArray();

        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            var offset = i * featureCount;
            for (var j = 0; j < numeric.Length; j++)
                features[offset + j] = (float)((numeric[j][i] - means[j]) / stds[j]);
            var column = offset + numeric.Length;
            for (var j = 0; j < categoricalColumns.Count; j++)
            {
                if (categoryIndex[j].TryGetValue(row.Values[categoricalColumns[j]], out var k)) features[column + k] = 1f;
                column += categories[j].Length;
            }

            var zColumn = i * sensitiveDim;
            long group = 0;
            for (var j = 0; j < sensitiveColumns.Count; j++)
            {
                var k = sensitiveIndex[j][row.Values[sensitiveColumns[j]]];
                sensitive[zColumn + k] = 1f;
                zColumn += sensitiveCategories[j].Length;
                group = group * sensitiveCategories[j].Length + k;
            }
            groups[i] = group;
            targets[i] = row.Target;
        }

        using var scope = torch.NewDisposeScope();
        return FairSplit.FromTabular(
            torch.tensor(features, [n, featureCount], dtype: ScalarType.Float32),
            torch.tensor(targets, dtype: ScalarType.Int64),
            torch.tensor(sensitive, [n, sensitiveDim], dtype: ScalarType.Float32),
            torch.tensor(groups, dtype: ScalarType.Int64));
    }

    private static double[] ParseNumbers(IReadOnlyList<TabularRow> rows, string column)
    {
        var values = new double[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var text = rows[i].Values[column];
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new InvalidDataException($"{rows[i].File}, line {rows[i].Line}: column '{column}' must be a number, found '{text}'.");
        }
        return values;
    }

    private static string[] Categories(IEnumerable<TabularRow> rows, string column) =>
        rows.Select(r => r.Values[column]).Distinct().Order(StringComparer.Ordinal).ToArray();

    private static Dictionary<string, int> ToIndex(string[] values) =>
        values.Select((v, k) => (v, k)).ToDictionary(p => p.v, p => p.k, StringComparer.Ordinal);

    private static string[] GroupNames(string[][] sensitiveCategories)
    {
        IEnumerable<string> names = [""];
        foreach (var categories in sensitiveCategories)
            names = names.SelectMany(prefix => categories.Select(c => prefix.Length == 0 ? c : $"{prefix}/{c}")).ToArray();
        return names.ToArray();
    }
}
