using StatFormer.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Attention;

/// <summary>
/// The real <see cref="EllipticalSelfAttention"/> layer against the whole forward pass written out by hand in
/// plain double arithmetic: projection, estimator of m, scores with or without 1/√D, mask, softmax, output projection.
/// </summary>
public class EllipticalLayerReferenceTests
{
    private const int B = 2, N = 5, C = 8, H = 2, D = C / H;
    private const double Eps = 1e-6;   // the estimator's documented eps on numerator and denominator

    [Theory]
    // unscaled, causal, estimator passed (null = default), estimator the layer must use, kernel
    [InlineData(true, true, null, EllipticalEstimator.Causal, AttentionKernel.Fused)]
    [InlineData(true, true, null, EllipticalEstimator.Causal, AttentionKernel.Explicit)]
    [InlineData(false, true, null, EllipticalEstimator.Causal, AttentionKernel.Fused)]
    [InlineData(true, true, EllipticalEstimator.Sequence, EllipticalEstimator.Sequence, AttentionKernel.Fused)]
    [InlineData(false, false, null, EllipticalEstimator.Sequence, AttentionKernel.Fused)]
    [InlineData(true, false, null, EllipticalEstimator.Sequence, AttentionKernel.Explicit)]
    [InlineData(false, false, EllipticalEstimator.Causal, EllipticalEstimator.Causal, AttentionKernel.Explicit)]
    public void LayerMatchesHandComputedForward(bool unscaled, bool causal, EllipticalEstimator? given, EllipticalEstimator used, AttentionKernel kernel)
    {
        // Known weights and inputs from a seeded System.Random: torch's generator is process-wide and parallel tests draw from it.
        var random = new Random(5);
        var layer = new EllipticalSelfAttention(C, H, dropout: 0.0, causal: causal, estimator: given, unscaled: unscaled) { Kernel = kernel };
        layer.eval();
        var weights = new Dictionary<string, float[]>();
        using (torch.no_grad())
            foreach (var (name, parameter) in layer.named_parameters())
            {
                var values = Uniform(random, (int)parameter.numel(), 0.5);
                parameter.copy_(tensor(values).reshape(parameter.shape));
                weights[name] = values;
            }
        // Inputs large enough that the temperature and the estimator visibly change the softmax.
        var xs = Uniform(random, B * N * C, 2.0);
        var prev = Uniform(random, B * H * N * D, 1.0);
        using var x = tensor(xs).reshape(B, N, C);
        using var previous = tensor(prev).reshape(B, H, N, D);
        using var actual = layer.forward(x, previous, null).Output;
        var actualValues = Floats(actual);
        var scale = unscaled ? 1.0 : 1.0 / Math.Sqrt(D);

        var expected = HandForward(xs, prev, weights, causal, used, scale);
        AssertClose(expected, actualValues, 1e-5);

        // The reference is sharp enough to tell the alternatives apart: the other temperature and the other
        // estimator each move the output far beyond the tolerance.
        var otherScale = unscaled ? 1.0 / Math.Sqrt(D) : 1.0;
        Assert.True(MaxDiff(HandForward(xs, prev, weights, causal, used, otherScale), actualValues) > 1e-2, "scaled and unscaled are not distinguished");
        var otherEstimator = used == EllipticalEstimator.Causal ? EllipticalEstimator.Sequence : EllipticalEstimator.Causal;
        Assert.True(MaxDiff(HandForward(xs, prev, weights, causal, otherEstimator, scale), actualValues) > 1e-2, "the estimators are not distinguished");
    }

    [Fact]
    public void DefaultEstimatorFollowsCausalityAndAnExplicitOneIsKept()
    {
        Assert.Equal(EllipticalEstimator.Causal, new EllipticalSelfAttention(C, H, causal: true).Estimator);
        Assert.Equal(EllipticalEstimator.Sequence, new EllipticalSelfAttention(C, H, causal: false).Estimator);
        // The authors' leaking rule in a causal LM (--estimator sequence) stays selectable, and so does the reverse.
        Assert.Equal(EllipticalEstimator.Sequence, new EllipticalSelfAttention(C, H, causal: true, estimator: EllipticalEstimator.Sequence).Estimator);
        Assert.Equal(EllipticalEstimator.Causal, new EllipticalSelfAttention(C, H, causal: false, estimator: EllipticalEstimator.Causal).Estimator);
    }

    /// <summary>
    /// softmax(scale · q diag(m) kᵀ) v per head, then the output projection; m from the previous values by the
    /// estimator's formula: s_d = Σ |v_sd − v'_sd| over s ≤ t (causal) or over all s (sequence), m_d = (s_d + ε)/(max s + ε).
    /// </summary>
    private static double[] HandForward(float[] x, float[] prev, Dictionary<string, float[]> w, bool causal, EllipticalEstimator estimator, double scale)
    {
        var qkvW = w["qkv.weight"];   // [3C, C]
        var qkvB = w["qkv.bias"];     // [3C]
        var projW = w["proj.weight"]; // [C, C]
        var projB = w["proj.bias"];   // [C]
        var output = new double[B * N * C];
        for (var b = 0; b < B; b++)
        {
            // Projection row r of token t; rows are laid out as (part q/k/v, head, coordinate).
            var qkv = new double[N, 3 * C];
            for (var t = 0; t < N; t++)
                for (var r = 0; r < 3 * C; r++)
                {
                    double sum = qkvB[r];
                    for (var c = 0; c < C; c++) sum += qkvW[r * C + c] * x[(b * N + t) * C + c];
                    qkv[t, r] = sum;
                }
            double Q(int h, int t, int d) => qkv[t, 0 * C + h * D + d];
            double K(int h, int t, int d) => qkv[t, 1 * C + h * D + d];
            double V(int h, int t, int d) => qkv[t, 2 * C + h * D + d];

            var attended = new double[N, C];
            for (var h = 0; h < H; h++)
                for (var t = 0; t < N; t++)
                {
                    var sums = new double[D];
                    var last = estimator == EllipticalEstimator.Causal ? t : N - 1;
                    for (var s = 0; s <= last; s++)
                        for (var d = 0; d < D; d++)
                            sums[d] += Math.Abs(V(h, s, d) - prev[((b * H + h) * N + s) * D + d]);
                    var max = sums.Max();
                    var m = sums.Select(s => (s + Eps) / (max + Eps)).ToArray();

                    var keys = causal ? t + 1 : N;
                    var scores = new double[keys];
                    for (var j = 0; j < keys; j++)
                    {
                        double dot = 0;
                        for (var d = 0; d < D; d++) dot += Q(h, t, d) * m[d] * K(h, j, d);
                        scores[j] = scale * dot;
                    }
                    var top = scores.Max();
                    var exp = scores.Select(s => Math.Exp(s - top)).ToArray();
                    var total = exp.Sum();
                    for (var d = 0; d < D; d++)
                    {
                        double sum = 0;
                        for (var j = 0; j < keys; j++) sum += exp[j] / total * V(h, j, d);
                        attended[t, h * D + d] = sum;
                    }
                }

            for (var t = 0; t < N; t++)
                for (var o = 0; o < C; o++)
                {
                    double sum = projB[o];
                    for (var c = 0; c < C; c++) sum += projW[o * C + c] * attended[t, c];
                    output[(b * N + t) * C + o] = sum;
                }
        }
        return output;
    }

    private static float[] Uniform(Random random, int count, double halfWidth) =>
        Enumerable.Range(0, count).Select(_ => (float)((2 * random.NextDouble() - 1) * halfWidth)).ToArray();

    private static float[] Floats(Tensor t) => t.detach().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();

    private static double MaxDiff(double[] expected, float[] actual) => expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var diff = MaxDiff(expected, actual);
        Assert.True(diff <= tolerance, $"max |layer − hand| = {diff:E2} > {tolerance:E0}");
    }
}
