using StatFormer.Analysis;
using StatFormer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Analysis;

public sealed class LinearProbeTests
{
    /// <summary>Features with very different scales and offsets, so the probe's own standardisation matters.</summary>
    private static Tensor Features(Generator g, int n, int d)
    {
        var scales = torch.tensor(Enumerable.Range(0, d).Select(j => (float)Math.Pow(10, j - 2)).ToArray());
        return torch.randn([n, d], generator: g) * scales + 50f;
    }

    [Fact]
    public void Classifier_RecoversAPlantedLinearRule()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(3);
        var rule = torch.randn([5, 3], generator: g) * 4;
        var x = Features(g, 1200, 5);
        var standardized = (x - x.mean([0L])) / x.std([0L]);
        var y = standardized.matmul(rule).argmax(1);
        var (trainX, trainY, testX, testY) = (x[..800], y[..800], x[800..], y[800..]);

        using var probe = LinearProbe.FitClassifier(trainX, trainY, classes: 3);
        Assert.True(probe.Accuracy(testX, testY) > 0.95, $"test accuracy {probe.Accuracy(testX, testY)}");
        Assert.True(probe.Accuracy(trainX, trainY) > 0.97);
        Assert.Equal(new long[] { 400 }, probe.Predict(testX).shape);

        // Deterministic: zero init and full-batch L-BFGS give the same weights every time.
        using var again = LinearProbe.FitClassifier(trainX, trainY, classes: 3);
        Assert.True(TensorAssert.SameTensor(again.Weight, probe.Weight));
    }

    [Fact]
    public void Classifier_ChanceLevelOnNoiseLabels()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(4);
        var x = torch.randn([1000, 4], generator: g);
        var y = torch.randint(0, 2, [1000], dtype: ScalarType.Int64, generator: g);
        using var probe = LinearProbe.FitClassifier(x[..500], y[..500], classes: 2);
        Assert.InRange(probe.Accuracy(x[500..], y[500..]), 0.4, 0.6);
    }

    [Fact]
    public void Regressor_TestErrorIsTheNoiseVariance()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(5);
        var x = Features(g, 4000, 6);
        var standardized = (x - x.mean([0L])) / x.std([0L]);
        var coefficients = torch.randn([6, 3], generator: g) * 30;
        const double noiseStd = 0.5;
        var targets = standardized.matmul(coefficients) + 100f + noiseStd * torch.randn([4000, 3], generator: g);

        using var probe = LinearProbe.FitRegressor(x[..2000], targets[..2000]);
        var mse = probe.MeanSquaredError(x[2000..], targets[2000..]);
        // The MSE of 2000×3 squared N(0, 0.25) errors has sd ≈ 0.25·√(2/6000) ≈ 0.005; the fit adds ≈ 0.25·6/2000.
        Assert.InRange(mse, 0.23, 0.27);
        Assert.True(probe.RSquared(x[2000..], targets[2000..]) > 0.99);
        Assert.Equal(new long[] { 2000, 3 }, probe.Predict(x[2000..]).shape);
    }

    [Fact]
    public void Regressor_UnrelatedTargetsKeepTheirVariance()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(6);
        var x = torch.randn([2000, 4], generator: g);
        var targets = 40 * torch.randn([2000, 2], generator: g);
        using var probe = LinearProbe.FitRegressor(x[..1000], targets[..1000]);
        // Nothing to learn: the test MSE is the target variance (1600) on the raw scale.
        Assert.InRange(probe.MeanSquaredError(x[1000..], targets[1000..]), 1450, 1750);
        Assert.InRange(probe.RSquared(x[1000..], targets[1000..]), -0.05, 0.02);
    }

    [Fact]
    public void Regressor_RecoversAnExactLinearMap()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(11);
        // Comparable feature scales: with scales 1e-2…1e5 the l2 shrinkage of the large weights, spread by sample
        // correlations, moves the small-scale coefficients by more than 1e-4 (a property of ridge, not of the solve).
        var x = torch.randn([3000, 8], dtype: ScalarType.Float64, generator: g) * 3 + 7;
        var map = torch.randn([8, 3], dtype: ScalarType.Float64, generator: g);
        var offset = torch.tensor(new[] { 100.0, -20.0, 3.0 }, dtype: ScalarType.Float64);
        var targets = x.matmul(map) + offset;

        using var probe = LinearProbe.FitRegressor(x[..2000], targets[..2000]);
        // The probe's raw-scale map: its prediction at 0 is b, and at the unit vector e_j it is b + A_j.
        var atZero = probe.Predict(torch.zeros(1, 8, dtype: ScalarType.Float64));
        var atUnits = probe.Predict(torch.eye(8, dtype: ScalarType.Float64)) - atZero;
        Assert.True((atUnits - map).abs().max().item<double>() < 1e-4, $"A error {(atUnits - map).abs().max().item<double>()}");
        Assert.True((atZero.squeeze(0) - offset).abs().max().item<double>() < 1e-4, $"b error {(atZero.squeeze(0) - offset).abs().max().item<double>()}");
        // Only the l2 = 1e-6 shrinkage separates the fit from the map: relative test error ≈ (3·1e-6)².
        var variance = targets[2000..].var([0L]).mean().item<double>();
        Assert.True(probe.MeanSquaredError(x[2000..], targets[2000..]) < 1e-9 * variance);
        Assert.Equal(ProbeSolver.ExactSolve, probe.Fit.Solver);
        Assert.True(probe.Fit.Converged, probe.Fit.ToString());
        Assert.True(probe.Fit.RelativeGradientNorm < 1e-10, probe.Fit.ToString());
        Assert.Equal(2000, probe.Fit.TrainCount);
    }

    /// <summary>
    /// Features that encode a latent Gaussian through a mixing matrix with singular values from 1 to 10^-decades: every
    /// latent direction is exactly (linearly) decodable, but the least-squares / logistic problem is ill-conditioned
    /// (κ(XᵀX) = 10^(2·decades)) — what correlated network units produce.
    /// </summary>
    private static (Tensor Features, Tensor Latent) IllConditioned(Generator g, int n, int d, double decades)
    {
        var latent = torch.randn([n, d], dtype: ScalarType.Float64, generator: g);
        var left = torch.linalg.qr(torch.randn([d, d], dtype: ScalarType.Float64, generator: g)).Q;
        var right = torch.linalg.qr(torch.randn([d, d], dtype: ScalarType.Float64, generator: g)).Q;
        var mixing = (left * torch.logspace(0, -decades, d, dtype: ScalarType.Float64)).matmul(right.t());
        return (latent.matmul(mixing) + 5, latent);
    }

    [Fact]
    public void Regressor_IllConditionedButDecodable_ReachesTheExactFit()
    {
        // 500 L-BFGS iterations (the former fixed budget) leave 23 % of the target variance unexplained here.
        using var scope = torch.NewDisposeScope();
        var g = new Generator(7);
        var (x, latent) = IllConditioned(g, 4000, 40, decades: 4);
        var targets = latent.matmul(torch.randn([40, 3], dtype: ScalarType.Float64, generator: g)) * 20 + 100;

        using var probe = LinearProbe.FitRegressor(x[..2000], targets[..2000], l2: 0);
        var relative = probe.MeanSquaredError(x[2000..], targets[2000..]) / targets[2000..].var().item<double>();
        Assert.True(relative < 1e-12, $"test MSE / variance {relative}");
        Assert.True(probe.Fit.Converged, probe.Fit.ToString());
    }

    /// <summary>The optimum of the probe's classifier objective by Newton's method with the exact Hessian: a reference independent of L-BFGS.</summary>
    private static double NewtonOptimum(Tensor features, Tensor labels, int classes, double l2)
    {
        var x = (features - features.mean([0L])) / features.std([0L], unbiased: false);
        var augmented = torch.cat([x, torch.ones(x.shape[0], 1, dtype: ScalarType.Float64)], 1);
        var (n, width) = (augmented.shape[0], augmented.shape[1]);
        var penalized = torch.ones(classes, width, dtype: ScalarType.Float64);
        penalized[.., ^1] = 0;
        var oneHot = nn.functional.one_hot(labels, classes).to_type(ScalarType.Float64);
        double Objective(Tensor t) =>
            nn.functional.cross_entropy(augmented.matmul(t.t()), labels).item<double>() + l2 * (penalized * t).square().sum().item<double>();
        var theta = torch.zeros(classes, width, dtype: ScalarType.Float64);
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var p = nn.functional.softmax(augmented.matmul(theta.t()), 1);
            var gradient = (p - oneHot).t().matmul(augmented) / n + 2 * l2 * penalized * theta;
            if (gradient.norm().item<double>() < 1e-13) break;
            var curvature = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1);
            var hessian = torch.einsum("nab,ni,nj->aibj", curvature, augmented, augmented) / n
                          + torch.diag(2 * l2 * penalized.flatten()).view(classes, width, classes, width);
            // A common shift of all biases leaves the loss unchanged: the pseudo-inverse ignores that flat direction.
            var step = -torch.linalg.pinv(hessian.view(classes * width, classes * width), hermitian: true)
                .matmul(gradient.flatten()).view(classes, width);
            var (before, size) = (Objective(theta), 1.0);
            while (Objective(theta + size * step) > before && size > 1e-10) size /= 2;
            theta = theta + size * step;
        }
        return Objective(theta);
    }

    /// <summary>The probe's objective at its weights (which act on standardised features).</summary>
    private static double ProbeObjective(LinearClassifierProbe probe, Tensor features, Tensor labels, double l2)
    {
        var x = (features - features.mean([0L])) / features.std([0L], unbiased: false);
        return nn.functional.cross_entropy(x.matmul(probe.Weight.t()) + probe.Bias, labels).item<double>() + l2 * probe.Weight.square().sum().item<double>();
    }

    [Fact]
    public void Classifier_IllConditionedButDecodable_ReachesTheOptimum()
    {
        // 500 L-BFGS iterations (the former fixed budget) stop 0.02 above the optimum and 3.7 points of test accuracy short.
        using var scope = torch.NewDisposeScope();
        var g = new Generator(7);
        var (x, latent) = IllConditioned(g, 4000, 40, decades: 3);
        var labels = latent.matmul(torch.randn([40, 4], dtype: ScalarType.Float64, generator: g)).argmax(1);
        var (trainX, trainY) = (x[..2000], labels[..2000]);

        using var probe = LinearProbe.FitClassifier(trainX, trainY, classes: 4);
        var gap = ProbeObjective(probe, trainX, trainY, LinearProbe.DefaultL2) - NewtonOptimum(trainX, trainY, 4, LinearProbe.DefaultL2);
        Assert.InRange(gap, -1e-9, 1e-6);
        Assert.True(probe.Fit.Converged, probe.Fit.ToString());
        Assert.Equal(ProbeStopReason.GradientTolerance, probe.Fit.StopReason);
        Assert.True(probe.Fit.GradientNorm <= 1e-6 * probe.Fit.InitialGradientNorm);
        Assert.True(probe.Fit.Iterations < 200, $"{probe.Fit.Iterations} iterations: the preconditioning should make this a short fit");
    }

    [Fact]
    public void Classifier_SeparableClasses_PerfectAccuracyAndConverged()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(12);
        var x = Features(g, 2000, 6);
        var standardized = (x - x.mean([0L])) / x.std([0L]);
        var labels = standardized.matmul(torch.randn([6, 3], generator: g)).argmax(1);

        using var probe = LinearProbe.FitClassifier(x[..1000], labels[..1000], classes: 3);
        Assert.Equal(1.0, probe.Accuracy(x[..1000], labels[..1000]));
        Assert.True(probe.Accuracy(x[1000..], labels[1000..]) > 0.98, $"test accuracy {probe.Accuracy(x[1000..], labels[1000..])}");
        Assert.True(probe.Fit.Converged, probe.Fit.ToString());
        Assert.True(probe.Fit.LastLossChange >= 0 && probe.Fit.Loss < 0.05, probe.Fit.ToString());
    }

    [Fact]
    public void Classifier_HittingTheIterationCapIsReported()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(7);
        var (x, latent) = IllConditioned(g, 2000, 40, decades: 3);
        var labels = latent.matmul(torch.randn([40, 4], dtype: ScalarType.Float64, generator: g)).argmax(1);

        using var probe = LinearProbe.FitClassifier(x, labels, classes: 4, maxIterations: 5);
        Assert.False(probe.Fit.Converged);
        Assert.Equal(ProbeStopReason.IterationCap, probe.Fit.StopReason);
        Assert.Equal(5, probe.Fit.Iterations);
        Assert.True(probe.Fit.RelativeGradientNorm > 1e-6, probe.Fit.ToString());
        Assert.True(probe.Fit.LastLossChange > 0, probe.Fit.ToString());
    }

    [Fact]
    public void MajorityRate_IsTheShareOfTheMostFrequentLabel()
    {
        using var labels = torch.tensor(new long[] { 0, 1, 1, 2, 1 });
        Assert.Equal(0.6, LinearProbe.MajorityRate(labels), 12);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(4, 2);
        Assert.Throws<ArgumentException>(() => LinearProbe.FitClassifier(x, torch.tensor(new long[] { 0, 1, 2, 1 }), classes: 2));
        Assert.Throws<ArgumentException>(() => LinearProbe.FitClassifier(x, torch.tensor(new long[] { 0, 1 }), classes: 2));
        Assert.Throws<ArgumentException>(() => LinearProbe.FitRegressor(x, torch.randn(4)));
        Assert.Throws<ArgumentException>(() => LinearProbe.FitClassifier(x, torch.tensor(new long[] { 0, 1, 0, 1 }), classes: 2, maxIterations: 0));
        Assert.Throws<ArgumentException>(() => LinearProbe.FitRegressor(x, torch.randn(4, 1), tolerance: 0));
    }
}
