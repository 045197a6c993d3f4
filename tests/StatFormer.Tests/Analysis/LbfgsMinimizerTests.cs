using StatFormer.Analysis;

namespace StatFormer.Tests.Analysis;

public sealed class LbfgsMinimizerTests
{
    /// <summary>f(x) = ½ Σ c_i (x_i − 1)², curvatures c_i from 1 to 10^6: ill-conditioned, with more dimensions than the history.</summary>
    private static LbfgsMinimizer.Objective Quadratic(int dimension, out double[] curvature)
    {
        var c = Enumerable.Range(0, dimension).Select(i => Math.Pow(10, 6.0 * i / (dimension - 1))).ToArray();
        curvature = c;
        return (point, gradient) =>
        {
            var loss = 0.0;
            for (var i = 0; i < point.Length; i++)
            {
                gradient[i] = c[i] * (point[i] - 1);
                loss += 0.5 * c[i] * (point[i] - 1) * (point[i] - 1);
            }
            return loss;
        };
    }

    [Fact]
    public void IllConditionedQuadratic_ConvergesToTheMinimiser()
    {
        var objective = Quadratic(60, out var curvature);
        var point = new double[60];
        var fit = LbfgsMinimizer.Minimize(objective, point, maxIterations: 10_000, tolerance: 1e-10, trainCount: 1);

        Assert.True(fit.Converged, fit.ToString());
        Assert.Equal(ProbeStopReason.GradientTolerance, fit.StopReason);
        Assert.True(fit.GradientNorm <= 1e-10 * fit.InitialGradientNorm);
        // |x_i − 1| = |∂_i f| / c_i ≤ ‖∇f‖ / c_i, and the caller's array holds the minimiser.
        for (var i = 0; i < point.Length; i++)
            Assert.True(Math.Abs(point[i] - 1) <= fit.GradientNorm / curvature[i] * (1 + 1e-9), $"x[{i}] = {point[i]}, ‖∇f‖ = {fit.GradientNorm}");
        Assert.All(point, v => Assert.InRange(v, 1 - 1e-3, 1 + 1e-3));
        // f − f* ≤ ‖∇f‖² / (2·c_min), c_min = 1.
        Assert.True(fit.Loss <= fit.GradientNorm * fit.GradientNorm / 2 * (1 + 1e-9) && fit.LastLossChange >= 0, fit.ToString());
    }

    [Fact]
    public void Rosenbrock_ConvergesToOneOne()
    {
        // Non-convex, with a curved valley: the line search has to do real work.
        static double Rosenbrock(double[] p, double[] g)
        {
            var (a, b) = (p[0], p[1]);
            g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
            g[1] = 200 * (b - a * a);
            return (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a);
        }
        var point = new[] { -1.2, 1.0 };
        var fit = LbfgsMinimizer.Minimize(Rosenbrock, point, maxIterations: 1000, tolerance: 1e-10, trainCount: 1);
        Assert.True(fit.Converged, fit.ToString());
        Assert.InRange(point[0], 1 - 1e-6, 1 + 1e-6);
        Assert.InRange(point[1], 1 - 1e-6, 1 + 1e-6);
    }

    [Fact]
    public void IterationCap_IsReportedAsNotConverged()
    {
        var objective = Quadratic(60, out _);
        var point = new double[60];
        var fit = LbfgsMinimizer.Minimize(objective, point, maxIterations: 5, tolerance: 1e-10, trainCount: 1);
        Assert.False(fit.Converged);
        Assert.Equal(ProbeStopReason.IterationCap, fit.StopReason);
        Assert.Equal(5, fit.Iterations);
        Assert.True(fit.RelativeGradientNorm > 1e-10 && fit.Loss < 0.5 * 60 * 1e6);
    }

    [Fact]
    public void ToleranceBelowTheFloatingPointFloor_StopsAsNoDecrease()
    {
        var objective = Quadratic(20, out _);
        var point = new double[20];
        var fit = LbfgsMinimizer.Minimize(objective, point, maxIterations: 100_000, tolerance: 1e-300, trainCount: 1);
        Assert.False(fit.Converged);
        Assert.Equal(ProbeStopReason.NoDecrease, fit.StopReason);
        Assert.True(fit.Iterations < 100_000, fit.ToString());
        Assert.All(point, v => Assert.InRange(v, 1 - 1e-6, 1 + 1e-6));
    }

    [Fact]
    public void StartAtTheOptimum_StopsAtOnce()
    {
        var objective = Quadratic(10, out _);
        var point = Enumerable.Repeat(1.0, 10).ToArray();
        var fit = LbfgsMinimizer.Minimize(objective, point, maxIterations: 100, tolerance: 1e-6, trainCount: 1);
        Assert.True(fit.Converged);
        Assert.Equal(0, fit.Iterations);
        Assert.Equal(0, fit.GradientNorm);
    }

    [Fact]
    public void NonFiniteStart_Throws()
    {
        static double Bad(double[] p, double[] g)
        {
            g[0] = double.NaN;
            return double.NaN;
        }
        Assert.Throws<InvalidOperationException>(() => LbfgsMinimizer.Minimize(Bad, [0.0], 10, 1e-6, 1));
    }
}
