namespace StatFormer.Tests.Contrastive;

/// <summary>
/// Independent plain-double reference implementations of the contrastive losses, written from the spec's formulas
/// with loops (direct exp/log, no log-sum-exp tricks, no tensors), for small batches with moderate logits.
/// </summary>
internal static class ContrastiveReference
{
    public static double[] Normalize(double[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    public static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    public static double Distance(double[] a, double[] b) => Math.Sqrt(a.Select((x, i) => (x - b[i]) * (x - b[i])).Sum());

    /// <summary>Cosine/τ between rows: S[i,j] = cos(a_i, b_j)/τ.</summary>
    public static double[,] Scores(double[][] a, double[][] b, double tau)
    {
        var s = new double[a.Length, b.Length];
        for (var i = 0; i < a.Length; i++)
            for (var j = 0; j < b.Length; j++)
                s[i, j] = Dot(Normalize(a[i]), Normalize(b[j])) / tau;
        return s;
    }

    /// <summary>NT-Xent over 2B views; with groups, negatives only from the anchor's group.</summary>
    public static double InfoNce(double[][] v1, double[][] v2, double tau, long[]? groups = null)
    {
        var b = v1.Length;
        var views = v1.Concat(v2).ToArray();
        var total = 0.0;
        for (var k = 0; k < 2 * b; k++)
        {
            var positive = (k + b) % (2 * b);
            var sPos = Dot(Normalize(views[k]), Normalize(views[positive])) / tau;
            var denominator = 0.0;
            for (var l = 0; l < 2 * b; l++)
            {
                if (l == k) continue;
                if (l != positive && groups is not null && groups[l % b] != groups[k % b]) continue;
                denominator += Math.Exp(Dot(Normalize(views[k]), Normalize(views[l])) / tau);
            }
            total += -sPos + Math.Log(denominator);
        }
        return total / (2 * b);
    }

    public static double Kernel(string kernel, double[] a, double[] b, double t) => kernel switch
    {
        "cosine" => Dot(Normalize(a), Normalize(b)),
        "rbf" => Math.Exp(-Math.Pow(Distance(a, b), 2) / t),
        "linear" => Dot(a, b) / t,
        "polynomial" => Math.Pow(Dot(a, b), 3) / t,
        "laplacian" => Math.Exp(-Distance(a, b) / t),
        _ => throw new ArgumentException(kernel),
    };

    /// <summary>W = (K + λI)⁻¹K with W_ii = 0 and W &lt; 1e-6 → 0.</summary>
    public static double[,] CclkWeights(double[][] z, string kernel, double lambda, double t)
    {
        var n = z.Length;
        var k = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                k[i, j] = i == j ? 1.0 : Kernel(kernel, z[i], z[j], t);
        var a = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                a[i, j] = k[i, j] + (i == j ? lambda : 0.0);
        var inverse = Invert(a);
        var w = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var s = 0.0;
                for (var m = 0; m < n; m++) s += inverse[i, m] * k[m, j];
                w[i, j] = i == j || s < 1e-6 ? 0.0 : s;
            }
        return w;
    }

    /// <summary>The weac-infonce CCLK loss, spec §2.3, written out.</summary>
    public static double Cclk(double[][] v1, double[][] v2, double[][] z, string kernel, double lambda, double t, double tau)
    {
        var n = v1.Length;
        var w = CclkWeights(z, kernel, lambda, t);
        var s12 = Scores(v1, v2, tau);
        var s11 = Scores(v1, v1, tau);
        var s22 = Scores(v2, v2, tau);
        double lossX = 0, lossY = 0;
        for (var i = 0; i < n; i++)
        {
            double mxy = 0, mxx = 0, myx = 0, myy = 0;
            for (var j = 0; j < n; j++)
            {
                mxy += Math.Exp(s12[i, j]) * w[j, i];
                myx += Math.Exp(s12[j, i]) * w[j, i];
                if (j != i)
                {
                    mxx += Math.Exp(s11[i, j]) * w[j, i];
                    myy += Math.Exp(s22[i, j]) * w[j, i];
                }
            }
            lossX += -(s12[i, i] - Math.Log(Math.Exp(s12[i, i]) + (n - 1) * (mxy + mxx)));
            lossY += -(s12[i, i] - Math.Log(Math.Exp(s12[i, i]) + (n - 1) * (myx + myy)));
        }
        return (lossX / n + lossY / n) / 2;
    }

    /// <summary>The attention rows P_ij over a support (null row sums: no support).</summary>
    public static double[,] Attention(double[][] z, double[,] wq, double[,] wk, double rho, bool normalize, Func<int, int, bool> support)
    {
        var n = z.Length;
        var zz = normalize ? z.Select(Normalize).ToArray() : z;
        var q = zz.Select(r => Multiply(r, wq)).ToArray();
        var k = zz.Select(r => Multiply(r, wk)).ToArray();
        var p = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            var sum = 0.0;
            for (var j = 0; j < n; j++)
                if (support(i, j)) sum += Math.Exp(Dot(q[i], k[j]) / rho);
            for (var j = 0; j < n; j++)
                p[i, j] = support(i, j) ? Math.Exp(Dot(q[i], k[j]) / rho) / sum : 0.0;
        }
        return p;
    }

    /// <summary>The symmetrised FAREContrast loss (spec §3) for given attention rows; scale = c_neg.</summary>
    public static double Fare(double[][] v1, double[][] v2, double[,] p, double tau, double scale, bool sameView)
    {
        var n = v1.Length;
        var s12 = Scores(v1, v2, tau);
        var s11 = Scores(v1, v1, tau);
        var s22 = Scores(v2, v2, tau);
        double lossX = 0, lossY = 0;
        for (var i = 0; i < n; i++)
        {
            double negX = 0, negY = 0;
            for (var j = 0; j < n; j++)
            {
                negX += p[i, j] * Math.Exp(s12[i, j]);
                negY += p[i, j] * Math.Exp(s12[j, i]);
                if (sameView && j != i)
                {
                    negX += p[i, j] * Math.Exp(s11[i, j]);
                    negY += p[i, j] * Math.Exp(s22[i, j]);
                }
            }
            lossX += Math.Log(Math.Exp(s12[i, i]) + scale * negX) - s12[i, i];
            lossY += Math.Log(Math.Exp(s12[i, i]) + scale * negY) - s12[i, i];
        }
        return (lossX / n + lossY / n) / 2;
    }

    /// <summary>
    /// SparseFARE's support from the spec: buckets h(z) = argmax([zR, −zR]) of the (normalised) z, stable order by
    /// (bucket, index), chunks of c; adjacency = own or cyclic previous chunk; within-bucket adds bucket equality
    /// (and, with chunks = false, drops the chunk condition: the dense reading).
    /// </summary>
    public static Func<int, int, bool> SparseSupport(double[][] z, double[,] r, bool normalize, int c, bool withinBucket, bool chunked, bool includePositive)
    {
        var n = z.Length;
        var zz = normalize ? z.Select(Normalize).ToArray() : z;
        var half = r.GetLength(1);
        var bucket = new int[n];
        for (var i = 0; i < n; i++)
        {
            var best = double.NegativeInfinity;
            for (var h = 0; h < 2 * half; h++)
            {
                var projection = 0.0;
                for (var d = 0; d < zz[i].Length; d++) projection += zz[i][d] * r[d, h % half];
                var value = h < half ? projection : -projection;
                if (value > best) { best = value; bucket[i] = h; }
            }
        }
        var order = Enumerable.Range(0, n).OrderBy(i => bucket[i]).ThenBy(i => i).ToArray();
        var chunk = new int[n];
        for (var position = 0; position < n; position++) chunk[order[position]] = position / c;
        var chunks = (n + c - 1) / c;
        return (i, j) =>
        {
            if (i == j && !includePositive) return false;
            if (withinBucket && bucket[i] != bucket[j]) return false;
            if (withinBucket && !chunked) return true;
            return chunk[j] == chunk[i] || (chunks > 1 && chunk[j] == (chunk[i] - 1 + chunks) % chunks);
        };
    }

    public static double[] Multiply(double[] row, double[,] m)
    {
        var result = new double[m.GetLength(1)];
        for (var j = 0; j < result.Length; j++)
            for (var i = 0; i < row.Length; i++) result[j] += row[i] * m[i, j];
        return result;
    }

    /// <summary>Gauss–Jordan inverse with partial pivoting.</summary>
    public static double[,] Invert(double[,] a)
    {
        var n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n + i] = 1.0;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
                if (Math.Abs(m[row, col]) > Math.Abs(m[pivot, col])) pivot = row;
            for (var j = 0; j < 2 * n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            var diagonal = m[col, col];
            for (var j = 0; j < 2 * n; j++) m[col, j] /= diagonal;
            for (var row = 0; row < n; row++)
            {
                if (row == col) continue;
                var factor = m[row, col];
                for (var j = 0; j < 2 * n; j++) m[row, j] -= factor * m[col, j];
            }
        }
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) inverse[i, j] = m[i, n + j];
        return inverse;
    }
}
