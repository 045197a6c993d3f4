using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Data;

/// <summary>
/// An embedded fair-learning dataset for the demo and tests (no files). Generative process, per sample:
/// <list type="number">
/// <item>class y uniform on {0,1,2,3};</item>
/// <item>protected attribute z ∈ R² uniform in the unit disc, independent of y;</item>
/// <item>x = P[y] + <see cref="SensitiveScale"/>·A z + ε ∈ R²⁴, ε ~ N(0, I), where P[y] ∈ {±<see cref="ClassScale"/>}²⁴ is
/// a fixed random sign pattern per class and A (24×2) has orthonormal columns orthogonal to all four class patterns.</item>
/// </list>
/// Two class patterns differ in about half of the 24 coordinates, i.e. they lie ≈3.5 apart against unit noise, while z
/// moves x by up to 6 along a plane of its own (variance 9 per direction against noise 1): z is the dominant direction
/// of variation and linearly recoverable with R² ≈ 0.9, so a plain contrastive encoder picks it up, yet it carries no
/// class information and a fair encoder can drop it while keeping the class accuracy. The structure (P, A) is fixed; the seed draws the samples, train and test from
/// independent streams. The inputs are standardised with train statistics. Groups = quadrant of z
/// (0: z₁≥0,z₂≥0; 1: z₁&lt;0,z₂≥0; 2: z₁&lt;0,z₂&lt;0; 3: z₁≥0,z₂&lt;0).
/// </summary>
public static class SyntheticFairData
{
    public const int InputDim = 24;
    public const int Classes = 4;
    public const double ClassScale = 0.5;
    public const double SensitiveScale = 6.0;

    // Seed of the fixed structure (class patterns, z mixing matrix), not of the samples.
    private const int StructureSeed = 24_111_122;

    public static FairDataset Create(int seed, int trainCount = 4000, int testCount = 2000)
    {
        if (trainCount < 2) throw new ArgumentException($"trainCount must be at least 2, got {trainCount}", nameof(trainCount));
        if (testCount < 1) throw new ArgumentException($"testCount must be at least 1, got {testCount}", nameof(testCount));
        var (patterns, mixing) = Structure();

        var trainRaw = Sample(new Random(Seeds.ForName(seed, "synthetic-train")), trainCount, patterns, mixing);
        var testRaw = Sample(new Random(Seeds.ForName(seed, "synthetic-test")), testCount, patterns, mixing);
        var (mean, std) = ColumnStats(trainRaw.X, trainCount);

        var train = ToSplit(trainRaw, trainCount, mean, std);
        FairSplit? test = null;
        try
        {
            test = ToSplit(testRaw, testCount, mean, std);
            var description =
                $"Synthetic fair data (seed {seed}): {trainCount} train / {testCount} test samples, {Classes} classes, " +
                $"x ∈ R^{InputDim} = class sign pattern (±{ClassScale}) + {SensitiveScale}·A z + N(0, I) with A orthogonal to " +
                "the class patterns, z uniform in the unit disc and independent of the class; inputs standardised; groups = quadrant of z.";
            return new FairDataset("synthetic", FairInputKind.Tabular, train, test, Classes, sensitiveIsContinuous: true,
                ["z1>=0,z2>=0", "z1<0,z2>=0", "z1<0,z2<0", "z1>=0,z2<0"], ["z1", "z2"],
                Enumerable.Range(0, InputDim).Select(j => $"x{j}").ToArray(), description);
        }
        catch
        {
            train.Dispose();
            test?.Dispose();
            throw;
        }
    }

    private sealed record RawSamples(double[] X, double[] Z, long[] Y);

    /// <summary>Class sign patterns [4][24] and the z mixing matrix as two orthonormal 24-vectors ⟂ the patterns.</summary>
    private static (double[][] Patterns, double[][] Mixing) Structure()
    {
        var rng = new Random(StructureSeed);
        var patterns = Enumerable.Range(0, Classes)
            .Select(_ => Enumerable.Range(0, InputDim).Select(_ => rng.Next(2) == 0 ? -ClassScale : ClassScale).ToArray())
            .ToArray();
        // Gram–Schmidt of two random Gaussian directions against the class patterns and each other.
        var basis = patterns.Select(p => p.ToArray()).ToList();
        var orthonormal = new List<double[]>();
        foreach (var b in basis)
        {
            var v = b.ToArray();
            foreach (var q in orthonormal) Subtract(v, q, Dot(v, q));
            Scale(v, 1.0 / Math.Sqrt(Dot(v, v)));
            orthonormal.Add(v);
        }
        var mixing = new double[2][];
        for (var c = 0; c < 2; c++)
        {
            var v = Enumerable.Range(0, InputDim).Select(_ => rng.NextStandardNormal()).ToArray();
            foreach (var q in orthonormal) Subtract(v, q, Dot(v, q));
            Scale(v, 1.0 / Math.Sqrt(Dot(v, v)));
            orthonormal.Add(v);
            mixing[c] = v;
        }
        return (patterns, mixing);
    }

    private static RawSamples Sample(Random rng, int n, double[][] patterns, double[][] mixing)
    {
        var x = new double[n * InputDim];
        var z = new double[n * 2];
        var y = new long[n];
        for (var i = 0; i < n; i++)
        {
            var label = rng.Next(Classes);
            // Uniform in the unit disc: radius √U, angle 2πU'.
            var radius = Math.Sqrt(rng.NextDouble());
            var angle = 2.0 * Math.PI * rng.NextDouble();
            var (z1, z2) = (radius * Math.Cos(angle), radius * Math.Sin(angle));
            y[i] = label;
            z[2 * i] = z1;
            z[2 * i + 1] = z2;
            for (var j = 0; j < InputDim; j++)
                x[i * InputDim + j] = patterns[label][j] + SensitiveScale * (mixing[0][j] * z1 + mixing[1][j] * z2) + rng.NextStandardNormal();
        }
        return new RawSamples(x, z, y);
    }

    private static (double[] Mean, double[] Std) ColumnStats(double[] x, int n)
    {
        var mean = new double[InputDim];
        var std = new double[InputDim];
        for (var j = 0; j < InputDim; j++)
        {
            double sum = 0, sumSq = 0;
            for (var i = 0; i < n; i++) sum += x[i * InputDim + j];
            mean[j] = sum / n;
            for (var i = 0; i < n; i++) sumSq += Math.Pow(x[i * InputDim + j] - mean[j], 2);
            std[j] = Math.Max(Math.Sqrt(sumSq / n), 1e-12);
        }
        return (mean, std);
    }

    private static FairSplit ToSplit(RawSamples raw, int n, double[] mean, double[] std)
    {
        var features = new float[n * InputDim];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < InputDim; j++)
                features[i * InputDim + j] = (float)((raw.X[i * InputDim + j] - mean[j]) / std[j]);
        var groups = new long[n];
        for (var i = 0; i < n; i++)
        {
            var (z1, z2) = (raw.Z[2 * i], raw.Z[2 * i + 1]);
            groups[i] = z2 >= 0 ? (z1 >= 0 ? 0 : 1) : (z1 < 0 ? 2 : 3);
        }
        using var scope = torch.NewDisposeScope();
        return FairSplit.FromTabular(
            torch.tensor(features, [n, InputDim], dtype: ScalarType.Float32),
            torch.tensor(raw.Y, dtype: ScalarType.Int64),
            torch.tensor(raw.Z.Select(v => (float)v).ToArray(), [n, 2], dtype: ScalarType.Float32),
            torch.tensor(groups, dtype: ScalarType.Int64));
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (var j = 0; j < a.Length; j++) s += a[j] * b[j];
        return s;
    }

    private static void Subtract(double[] v, double[] q, double amount)
    {
        for (var j = 0; j < v.Length; j++) v[j] -= amount * q[j];
    }

    private static void Scale(double[] v, double factor)
    {
        for (var j = 0; j < v.Length; j++) v[j] *= factor;
    }
}
