namespace StatFormer.Analysis;

/// <summary>
/// Limited-memory BFGS (Nocedal &amp; Wright, Alg. 7.4: two-loop recursion, history 20, H₀ = sᵀy/yᵀy) with a backtracking
/// Armijo line search, on a flat float64 vector, run until ‖∇f‖₂ ≤ tolerance · ‖∇f(x₀)‖₂ or the iteration cap.
/// <para>
/// The probes' own minimiser instead of <c>torch.optim.LBFGS</c>: TorchSharp wraps libtorch's L-BFGS, which has no line
/// search (fixed step 1) and reports neither its iteration count nor its final gradient — and a probe must show that it
/// reached the optimum. The vectors are a few hundred to a few thousand numbers, so the vector algebra is plain C#; the
/// cost is all in the objective.
/// </para>
/// </summary>
internal static class LbfgsMinimizer
{
    public const int HistorySize = 20;
    private const double ArmijoC1 = 1e-4;
    private const int MaxBacktracks = 60;

    /// <summary>Consecutive accepted steps without a decrease of f after which the fit is at the float64 floor.</summary>
    private const int MaxStalledSteps = 10;

    /// <summary>Writes ∇f(point) into gradient and returns f(point).</summary>
    public delegate double Objective(double[] point, double[] gradient);

    /// <summary>Minimises <paramref name="objective"/> from <paramref name="point"/>, which holds the minimiser on return.</summary>
    /// <param name="trainCount">Only recorded in the result.</param>
    /// <param name="gradientNorm">The norm of the criterion, given the objective's gradient (default: Euclidean). A caller that
    /// minimises over preconditioned variables uses it to judge convergence by the gradient in the original ones.</param>
    public static ProbeFit Minimize(Objective objective, double[] point, int maxIterations, double tolerance, int trainCount,
        Func<double[], double>? gradientNorm = null)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(point);
        if (maxIterations < 1) throw new ArgumentException($"maxIterations must be at least 1, got {maxIterations}", nameof(maxIterations));
        if (!(tolerance > 0) || !double.IsFinite(tolerance)) throw new ArgumentException($"tolerance must be a positive number, got {tolerance}", nameof(tolerance));

        var start = point;
        var n = point.Length;
        var gradient = new double[n];
        var criterionNorm = gradientNorm ?? Norm;
        var loss = Evaluate(objective, point, gradient);
        var initialNorm = criterionNorm(gradient);
        var norm = initialNorm;
        var steps = new Queue<(double[] S, double[] Y, double Rho)>();
        var direction = new double[n];
        var trial = new double[n];
        var trialGradient = new double[n];
        var iterations = 0;
        var lastChange = 0.0;
        var stalled = 0;
        ProbeStopReason reason;
        while (true)
        {
            if (norm <= tolerance * initialNorm)
            {
                reason = ProbeStopReason.GradientTolerance;
                break;
            }
            if (iterations >= maxIterations)
            {
                reason = ProbeStopReason.IterationCap;
                break;
            }

            SearchDirection(gradient, steps, direction);
            var slope = Dot(gradient, direction);
            if (!(slope < 0))
            {
                // Rounding can make the quasi-Newton direction useless; steepest descent always descends.
                steps.Clear();
                SearchDirection(gradient, steps, direction);
                slope = Dot(gradient, direction);
            }
            // Without curvature information the first step is scaled like torch.optim.LBFGS's: min(1, 1/‖g‖₁).
            var stepSize = steps.Count == 0 ? Math.Min(1.0, 1.0 / SumAbs(gradient)) : 1.0;
            var trialLoss = double.NaN;
            var accepted = false;
            for (var backtrack = 0; backtrack < MaxBacktracks; backtrack++)
            {
                for (var i = 0; i < n; i++) trial[i] = point[i] + stepSize * direction[i];
                trialLoss = Evaluate(objective, trial, trialGradient, requireFinite: false);
                if (double.IsFinite(trialLoss) && trialLoss <= loss + ArmijoC1 * stepSize * slope)
                {
                    accepted = true;
                    break;
                }
                stepSize *= 0.5;
            }
            if (!accepted)
            {
                if (steps.Count > 0)
                {
                    // A stale history can point badly; retry this iteration from steepest descent before giving up.
                    steps.Clear();
                    continue;
                }
                reason = ProbeStopReason.NoDecrease;
                break;
            }

            var s = new double[n];
            var y = new double[n];
            for (var i = 0; i < n; i++)
            {
                s[i] = trial[i] - point[i];
                y[i] = trialGradient[i] - gradient[i];
            }
            var sy = Dot(s, y);
            // Keep a pair only with positive curvature, so the implied inverse Hessian stays positive definite.
            if (sy > 1e-12 * Norm(s) * Norm(y))
            {
                if (steps.Count == HistorySize) steps.Dequeue();
                steps.Enqueue((s, y, 1 / sy));
            }
            lastChange = loss - trialLoss;
            (point, trial) = (trial, point);
            (gradient, trialGradient) = (trialGradient, gradient);
            loss = trialLoss;
            norm = criterionNorm(gradient);
            iterations++;
            // Near the optimum Armijo can accept steps that change f by nothing at all: a tolerance below the float64
            // floor would otherwise spin until the cap.
            stalled = lastChange > 0 ? 0 : stalled + 1;
            if (stalled >= MaxStalledSteps && norm > tolerance * initialNorm)
            {
                reason = ProbeStopReason.NoDecrease;
                break;
            }
        }

        // The swaps above may have left the minimiser in the scratch array; the caller's array must hold it.
        if (!ReferenceEquals(point, start)) Array.Copy(point, start, n);
        return new ProbeFit(ProbeSolver.Lbfgs, trainCount, iterations, reason == ProbeStopReason.GradientTolerance, reason,
            loss, norm, initialNorm, lastChange, tolerance, maxIterations);
    }

    /// <summary>direction = −H·gradient by the two-loop recursion over the stored (s, y) pairs, oldest first.</summary>
    private static void SearchDirection(double[] gradient, Queue<(double[] S, double[] Y, double Rho)> steps, double[] direction)
    {
        var n = gradient.Length;
        var q = (double[])gradient.Clone();
        var pairs = steps.ToArray();
        var alpha = new double[pairs.Length];
        for (var k = pairs.Length - 1; k >= 0; k--)
        {
            alpha[k] = pairs[k].Rho * Dot(pairs[k].S, q);
            Axpy(-alpha[k], pairs[k].Y, q);
        }
        if (pairs.Length > 0)
        {
            var (s, y, _) = pairs[^1];
            var scale = Dot(s, y) / Dot(y, y);
            for (var i = 0; i < n; i++) q[i] *= scale;
        }
        for (var k = 0; k < pairs.Length; k++)
        {
            var beta = pairs[k].Rho * Dot(pairs[k].Y, q);
            Axpy(alpha[k] - beta, pairs[k].S, q);
        }
        for (var i = 0; i < n; i++) direction[i] = -q[i];
    }

    private static double Evaluate(Objective objective, double[] point, double[] gradient, bool requireFinite = true)
    {
        var loss = objective(point, gradient);
        var finite = double.IsFinite(loss) && gradient.All(double.IsFinite);
        if (!finite && requireFinite) throw new InvalidOperationException("the probe objective is not finite at the L-BFGS start");
        return finite ? loss : double.NaN;
    }

    private static double Dot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));

    private static double SumAbs(double[] a) => a.Sum(Math.Abs);

    private static void Axpy(double factor, double[] x, double[] y)
    {
        for (var i = 0; i < x.Length; i++) y[i] += factor * x[i];
    }
}
