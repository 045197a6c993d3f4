using StatFormer.Analysis;

namespace StatFormer.Tests.Analysis;

public class ClusteringAgreementTests
{
    // Textbook example (Manning, Raghavan & Schütze, IR book §16.3): 3 clusters × 3 classes, 17 items.
    private static readonly long[,] Textbook = { { 5, 1, 0 }, { 1, 4, 1 }, { 2, 0, 3 } };

    [Fact]
    public void TextbookTableHasTheHandComputedValues()
    {
        // Purity: row maxima 5 + 4 + 3 = 12 of 17.
        Assert.Equal(12.0 / 17, ClusteringAgreement.Purity(Textbook), 12);

        // Rand index: C(17,2) = 136 pairs. Together in both: C(5,2)+C(4,2)+C(3,2)+C(2,2) = 20;
        // together in the rows: 15+15+10 = 40; in the columns (sums 8, 5, 4): 28+10+6 = 44.
        // Agreeing = 136 + 2·20 − 40 − 44 = 92.
        Assert.Equal(92.0 / 136, ClusteringAgreement.RandIndex(Textbook), 12);

        // NMI: row sums a = (6, 6, 5), column sums b = (8, 5, 4), N = 17, n = nonzero cells.
        // I = Σ n/N · ln(N n / (a b)) = 0.3919366; H(rows) = 1.0950779; H(columns) = 1.0551016;
        // NMI = 2 · 0.3919366 / (1.0950779 + 1.0551016) = 0.3645618.
        double n = 17;
        double mutual = 5 / n * Math.Log(n * 5 / (6 * 8)) + 1 / n * Math.Log(n * 1 / (6 * 5))
                      + 1 / n * Math.Log(n * 1 / (6 * 8)) + 4 / n * Math.Log(n * 4 / (6 * 5)) + 1 / n * Math.Log(n * 1 / (6 * 4))
                      + 2 / n * Math.Log(n * 2 / (5 * 8)) + 3 / n * Math.Log(n * 3 / (5 * 4));
        Assert.Equal(0.3919366, mutual, 6);
        Assert.Equal(0.3645618, ClusteringAgreement.NormalizedMutualInformation(Textbook), 6);
    }

    [Fact]
    public void IdenticalPartitionsUpToRelabellingAgreeFully()
    {
        var a = new[] { 0, 0, 1, 1, 2, 2, 2 };
        var b = new[] { 2, 2, 0, 0, 1, 1, 1 };
        var table = ClusteringAgreement.Contingency(a, b, 3, 3);
        Assert.Equal(1.0, ClusteringAgreement.Purity(table), 12);
        Assert.Equal(1.0, ClusteringAgreement.NormalizedMutualInformation(table), 12);
        Assert.Equal(1.0, ClusteringAgreement.RandIndex(table), 12);
    }

    [Fact]
    public void IndependentUniformTableHasZeroNmi()
    {
        long[,] table = { { 2, 2 }, { 2, 2 } };
        Assert.Equal(0.0, ClusteringAgreement.NormalizedMutualInformation(table), 12);
        Assert.Equal(0.5, ClusteringAgreement.Purity(table), 12);
        // C(8,2) = 28; together in both 4·C(2,2) = 4; rows 2·C(4,2) = 12; columns 12 → (28 + 8 − 24) / 28 = 3/7.
        Assert.Equal(3.0 / 7, ClusteringAgreement.RandIndex(table), 12);
    }

    [Fact]
    public void SingleLabelConventions()
    {
        // One side constant, the other not: no shared information.
        Assert.Equal(0.0, ClusteringAgreement.NormalizedMutualInformation(new long[,] { { 3, 2 } }));
        Assert.Equal(0.0, ClusteringAgreement.NormalizedMutualInformation(new long[,] { { 3 }, { 2 } }));
        // Both constant (empty rows/columns do not count as labels): identical partitions.
        Assert.Equal(1.0, ClusteringAgreement.NormalizedMutualInformation(new long[,] { { 5 } }));
        Assert.Equal(1.0, ClusteringAgreement.NormalizedMutualInformation(new long[,] { { 0, 0 }, { 0, 5 } }));
    }

    [Fact]
    public void EmptyTablesAreUndefined()
    {
        var empty = new long[2, 3];
        Assert.True(double.IsNaN(ClusteringAgreement.Purity(empty)));
        Assert.True(double.IsNaN(ClusteringAgreement.NormalizedMutualInformation(empty)));
        Assert.True(double.IsNaN(ClusteringAgreement.RandIndex(empty)));
        Assert.True(double.IsNaN(ClusteringAgreement.RandIndex(new long[,] { { 1, 0 } })), "one item has no pairs");
    }

    [Fact]
    public void ContingencySkipsUnknownLabels()
    {
        var table = ClusteringAgreement.Contingency(new[] { 0, -1, 1, 1, 2 }, new[] { 1, 0, -1, 0, 0 }, 3, 2);
        Assert.Equal(new long[,] { { 0, 1 }, { 1, 0 }, { 1, 0 } }, table);
    }

    [Fact]
    public void ContingencyRejectsBadLabels()
    {
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => ClusteringAgreement.Contingency(new[] { 0, 1 }, new[] { 0 }, 2, 2)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => ClusteringAgreement.Contingency(new[] { 0, 2 }, new[] { 0, 0 }, 2, 2)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => ClusteringAgreement.Contingency(new[] { 0, 1 }, new[] { 0, -2 }, 2, 2)).ParamName);
        Assert.Equal("counts", Assert.Throws<ArgumentException>(() => ClusteringAgreement.Purity(new long[,] { { 1, -1 } })).ParamName);
    }

    [Fact]
    public void RandIndexAndNmiMatchSlowPairwiseReferences()
    {
        var random = new Random(5);
        var a = Enumerable.Range(0, 60).Select(_ => random.Next(4)).ToArray();
        var b = a.Select(x => random.NextDouble() < 0.6 ? x % 3 : random.Next(3)).ToArray();
        var table = ClusteringAgreement.Contingency(a, b, 4, 3);

        int agreeing = 0, pairs = 0;
        for (int i = 0; i < a.Length; i++)
            for (int j = i + 1; j < a.Length; j++, pairs++)
                if ((a[i] == a[j]) == (b[i] == b[j])) agreeing++;
        Assert.Equal((double)agreeing / pairs, ClusteringAgreement.RandIndex(table), 12);

        // NMI from the label lists: empirical probabilities by counting.
        double n = a.Length;
        double Entropy(int[] labels) => -labels.GroupBy(x => x).Sum(g => g.Count() / n * Math.Log(g.Count() / n));
        double joint = Entropy(a.Zip(b, (x, y) => x * 10 + y).ToArray());
        double hA = Entropy(a), hB = Entropy(b);
        double expected = 2 * (hA + hB - joint) / (hA + hB);
        Assert.Equal(expected, ClusteringAgreement.NormalizedMutualInformation(table), 10);

        // Both measures are symmetric in the two partitions.
        var transposed = ClusteringAgreement.Contingency(b, a, 3, 4);
        Assert.Equal(ClusteringAgreement.RandIndex(table), ClusteringAgreement.RandIndex(transposed), 12);
        Assert.Equal(ClusteringAgreement.NormalizedMutualInformation(table), ClusteringAgreement.NormalizedMutualInformation(transposed), 12);
    }
}
