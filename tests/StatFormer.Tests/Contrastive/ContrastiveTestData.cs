using StatFormer.Contrastive;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Contrastive;

/// <summary>The hand-written 4-sample batch and small tensor helpers of the contrastive tests.</summary>
internal static class ContrastiveTestData
{
    public static readonly double[][] View1 = { [1, 2, 0.5], [-1, 0.5, 1], [0.3, -1, 2], [2, 1, -1] };
    public static readonly double[][] View2 = { [0.8, 2.2, 0.1], [-1.2, 0.4, 0.7], [0.5, -0.8, 1.5], [1.5, 1.5, -0.5] };
    public static readonly double[][] Z = { [1.0, 0.2, -0.5], [0.9, 0.3, -0.4], [-1.0, 0.5, 0.8], [-0.2, -1.2, 0.3] };
    // Sample 1 is alone in its group: under Fair-InfoNCE its anchors have only their positive.
    public static readonly long[] Groups = { 0, 1, 0, 0 };

    public static Tensor Rows(double[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(x => (float)x)).ToArray()).reshape(rows.Length, rows[0].Length);

    public static Tensor Matrix(double[,] m)
    {
        var values = new float[m.Length];
        for (var i = 0; i < m.GetLength(0); i++)
            for (var j = 0; j < m.GetLength(1); j++) values[i * m.GetLength(1) + j] = (float)m[i, j];
        return tensor(values).reshape(m.GetLength(0), m.GetLength(1));
    }

    public static SensitiveBatch Sensitive(double[][] z, long[]? groups = null) =>
        new(Rows(z), tensor(groups ?? new long[z.Length]));

    /// <summary>Rows of N(0,1)-ish values from a seeded System.Random (keeps torch's global generator out of parallel tests).</summary>
    public static double[][] RandomRows(Random random, int rows, int cols) =>
        Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, cols).Select(_ => Gaussian(random)).ToArray()).ToArray();

    public static double[,] RandomMatrix(Random random, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < cols; j++) m[i, j] = Gaussian(random);
        return m;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static void AssertClose(double expected, double actual, double tolerance = 1e-5, string what = "")
    {
        var bound = tolerance * Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= bound, $"{what} expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):E2} > {bound:E2})");
    }

    public static void AssertTensorsClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.to_type(ScalarType.Float64).data<double>().ToArray();
        var a = actual.to_type(ScalarType.Float64).data<double>().ToArray();
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * Math.Max(1.0, Math.Abs(e[i])), $"{what}[{i}]: expected {e[i]:R}, got {a[i]:R}");
    }

    public static void AssertFinite(Tensor t, string what)
    {
        var values = t.to_type(ScalarType.Float64).data<double>().ToArray();
        Assert.True(values.All(double.IsFinite), $"{what} has a non-finite entry: [{string.Join(", ", values.Take(20))}]");
    }

    public static void SetProjections(FareLoss loss, double[,] wq, double[,] wk)
    {
        using var noGrad = torch.no_grad();
        using var q = Matrix(wq);
        using var k = Matrix(wk);
        loss.QueryProjection.copy_(q);
        loss.KeyProjection.copy_(k);
    }

    public static double[,] Identity(int n)
    {
        var m = new double[n, n];
        for (var i = 0; i < n; i++) m[i, i] = 1;
        return m;
    }
}
