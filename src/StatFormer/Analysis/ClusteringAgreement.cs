namespace StatFormer.Analysis;

/// <summary>
/// Agreement between two partitions of the same items, computed from their contingency table
/// <c>counts[i, j]</c> = number of items in cluster i (rows, e.g. experts) and class j (columns, e.g. topics).
/// All measures are O(rows·columns); none loops over item pairs.
/// An empty table (no items) has no defined agreement: every measure returns NaN for it.
/// </summary>
public static class ClusteringAgreement
{
    /// <summary>
    /// Contingency table of two labelings of the same items: <c>[i, j]</c> counts items with <c>a = i</c> and
    /// <c>b = j</c>. Items where either label is −1 (unknown) are skipped.
    /// </summary>
    /// <param name="a">Row labels in [−1, <paramref name="na"/>).</param>
    /// <param name="b">Column labels in [−1, <paramref name="nb"/>), same length as <paramref name="a"/>.</param>
    public static long[,] Contingency(int[] a, int[] b, int na, int nb)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (na < 1) throw new ArgumentException($"need at least one row label, got {na}.", nameof(na));
        if (nb < 1) throw new ArgumentException($"need at least one column label, got {nb}.", nameof(nb));
        if (a.Length != b.Length) throw new ArgumentException($"{a.Length} row labels but {b.Length} column labels.", nameof(b));
        var counts = new long[na, nb];
        for (int i = 0; i < a.Length; i++)
        {
            int row = a[i], column = b[i];
            if (row < -1 || row >= na) throw new ArgumentException($"label {row} at position {i} is outside [-1, {na}).", nameof(a));
            if (column < -1 || column >= nb) throw new ArgumentException($"label {column} at position {i} is outside [-1, {nb}).", nameof(b));
            if (row == -1 || column == -1) continue;
            counts[row, column]++;
        }
        return counts;
    }

    /// <summary>Purity = (1/N) Σ_rows max_column counts: the fraction of items that belong to their cluster's majority class.</summary>
    public static double Purity(long[,] counts)
    {
        var (rowSums, _, total) = Margins(counts);
        if (total == 0) return double.NaN;
        long majority = 0;
        for (int i = 0; i < rowSums.Length; i++)
        {
            long best = 0;
            for (int j = 0; j < counts.GetLength(1); j++) best = Math.Max(best, counts[i, j]);
            majority += best;
        }
        return (double)majority / total;
    }

    /// <summary>
    /// Normalized mutual information with arithmetic-mean normalisation, NMI = 2·I(U;V) / (H(U) + H(V)), natural log
    /// (the base cancels). 1 for identical partitions up to relabelling, 0 for independent ones.
    /// Convention where an entropy is zero: if only one side has a single non-empty label, I = 0 and NMI = 0
    /// (a constant partition carries no information about the other); if both sides have a single label the partitions
    /// are identical and NMI = 1.
    /// </summary>
    public static double NormalizedMutualInformation(long[,] counts)
    {
        var (rowSums, columnSums, total) = Margins(counts);
        if (total == 0) return double.NaN;
        int usedRows = rowSums.Count(s => s > 0), usedColumns = columnSums.Count(s => s > 0);
        if (usedRows == 1 && usedColumns == 1) return 1.0;
        if (usedRows == 1 || usedColumns == 1) return 0.0;

        double n = total, mutualInformation = 0;
        for (int i = 0; i < rowSums.Length; i++)
            for (int j = 0; j < columnSums.Length; j++)
            {
                long nij = counts[i, j];
                if (nij == 0) continue;
                mutualInformation += nij / n * Math.Log(n * nij / ((double)rowSums[i] * columnSums[j]));
            }
        double entropySum = Entropy(rowSums, n) + Entropy(columnSums, n);
        // Rounding can push I a hair outside [0, min(H)]; keep the ratio in [0, 1].
        return Math.Clamp(2 * mutualInformation / entropySum, 0.0, 1.0);
    }

    /// <summary>
    /// Rand index: the fraction of the C(N,2) item pairs on which the two partitions agree (both together or both apart),
    /// exact from pair counts: RI = [C(N,2) + 2·Σ_ij C(n_ij,2) − Σ_i C(a_i,2) − Σ_j C(b_j,2)] / C(N,2).
    /// NaN with fewer than two items (no pairs).
    /// </summary>
    public static double RandIndex(long[,] counts)
    {
        var (rowSums, columnSums, total) = Margins(counts);
        if (total < 2) return double.NaN;
        Int128 together = 0, rowPairs = 0, columnPairs = 0;
        foreach (var nij in counts) together += Pairs(nij);
        foreach (var s in rowSums) rowPairs += Pairs(s);
        foreach (var s in columnSums) columnPairs += Pairs(s);
        Int128 all = Pairs(total);
        Int128 agreeing = all + 2 * together - rowPairs - columnPairs;
        return (double)agreeing / (double)all;
    }

    private static Int128 Pairs(long n) => (Int128)n * (n - 1) / 2;

    private static double Entropy(long[] sums, double total)
    {
        double h = 0;
        foreach (var s in sums)
            if (s > 0) h -= s / total * Math.Log(s / total);
        return h;
    }

    private static (long[] RowSums, long[] ColumnSums, long Total) Margins(long[,] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        int rows = counts.GetLength(0), columns = counts.GetLength(1);
        var rowSums = new long[rows];
        var columnSums = new long[columns];
        long total = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                long c = counts[i, j];
                if (c < 0) throw new ArgumentException($"negative count {c} at [{i}, {j}].", nameof(counts));
                rowSums[i] += c;
                columnSums[j] += c;
                total += c;
            }
        return (rowSums, columnSums, total);
    }
}
