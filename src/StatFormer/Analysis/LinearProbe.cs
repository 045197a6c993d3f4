using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Analysis;

/// <summary>
/// Linear probes on frozen representations, the evaluation protocol of spec §4.4 (CCLK's <c>lbfgs.py</c>): a linear
/// map fitted full-batch on the (un-augmented) train representations, minimising f = loss + l2·‖W‖² (bias not
/// penalised). Features are standardised with the train mean and population std inside the probe (constant features keep
/// std 1), the fit starts at zero weights so it is deterministic, and it runs in float64.
/// <para>
/// f is strictly convex (l2 &gt; 0), so the probe is defined by its unique minimiser — not by an optimiser budget. Every
/// fit therefore runs until the criterion ‖∇f‖₂ ≤ tolerance · ‖∇f(0)‖₂ holds (default 1e-6) and returns a
/// <see cref="ProbeFit"/> that says whether it did: the classifier by <see cref="LbfgsMinimizer"/> up to an iteration
/// cap (hitting it is reported, <see cref="ProbeStopReason.IterationCap"/>), the regressor, a ridge least-squares
/// problem, by solving its normal equations exactly. CCLK's fixed 500 L-BFGS iterations can stop far from the optimum
/// on ill-conditioned representations, and an under-fitted colour probe overstates "bias removal".
/// </para>
/// </summary>
public static class LinearProbe
{
    /// <summary>The relative gradient tolerance of the convergence criterion.</summary>
    public const double DefaultTolerance = 1e-6;

    /// <summary>The classifier's L-BFGS iteration cap: generous, so that hitting it means a problem worth reporting.</summary>
    public const int DefaultMaxIterations = 20_000;

    /// <summary>The probes' L2 penalty (the CCLK evaluation's 1e-6).</summary>
    public const double DefaultL2 = 1e-6;

    /// <summary>Multinomial logistic regression: mean cross-entropy + l2·‖W‖², by L-BFGS until the convergence criterion holds.</summary>
    /// <param name="trainFeatures">float [N,D].</param>
    /// <param name="trainLabels">int64 [N] in [0, classes).</param>
    /// <param name="maxIterations">The L-BFGS iteration cap; reaching it leaves <see cref="ProbeFit.Converged"/> false.</param>
    /// <param name="tolerance">Relative gradient tolerance of the criterion.</param>
    public static LinearClassifierProbe FitClassifier(Tensor trainFeatures, Tensor trainLabels, int classes, int maxIterations = DefaultMaxIterations,
        double l2 = DefaultL2, double tolerance = DefaultTolerance)
    {
        CheckFeatures(trainFeatures, nameof(trainFeatures));
        CheckLabels(trainLabels, trainFeatures.shape[0], nameof(trainLabels));
        if (classes < 2) throw new ArgumentException($"classes must be at least 2, got {classes}", nameof(classes));
        if (maxIterations < 1) throw new ArgumentException($"maxIterations must be at least 1, got {maxIterations}", nameof(maxIterations));
        CheckSettings(l2, tolerance);
        using (var scope = torch.NewDisposeScope())
        {
            var (min, max) = (trainLabels.min().item<long>(), trainLabels.max().item<long>());
            if (min < 0 || max >= classes)
                throw new ArgumentException($"labels must lie in [0, {classes}), got values in [{min}, {max}]", nameof(trainLabels));
        }

        using var fitScope = torch.NewDisposeScope();
        var (x, mean, std) = Standardize(trainFeatures);
        var y = trainLabels.to(x.device);
        var dim = (int)x.shape[1];
        var weightCount = classes * dim;
        var preconditioner = Preconditioner(x, l2);
        var inverse = preconditioner.Inverse;
        // L-BFGS runs on U with W = U·Pᵀ, i.e. on the whitened features x·P: the same objective, far better conditioned.
        var whitened = x.matmul(preconditioner.Forward);
        var forwardT = preconditioner.Forward.t();

        // θ = [U row-major (classes·D), b (classes)].
        double Objective(double[] theta, double[] gradient)
        {
            using var scope = torch.NewDisposeScope();
            var flat = HostTensor.From(theta, device: x.device).requires_grad_(true);
            var u = flat.narrow(0, 0, weightCount).view(classes, dim);
            var bias = flat.narrow(0, weightCount, classes);
            var loss = nn.functional.cross_entropy(whitened.matmul(u.t()) + bias, y) + l2 * u.matmul(forwardT).square().sum();
            loss.backward();
            flat.grad!.cpu().data<double>().CopyTo(gradient);
            return loss.item<double>();
        }

        // The criterion is on ∂f/∂(W, b): ∂f/∂W = ∂f/∂U · P⁻¹.
        double WeightGradientNorm(double[] gradient)
        {
            using var scope = torch.NewDisposeScope();
            var all = HostTensor.From(gradient, device: x.device);
            var weightGradient = all.narrow(0, 0, weightCount).view(classes, dim).matmul(inverse);
            return Math.Sqrt(weightGradient.square().sum().item<double>() + all.narrow(0, weightCount, classes).square().sum().item<double>());
        }

        var parameters = new double[weightCount + classes];
        ProbeFit fit;
        using (torch.enable_grad())
            fit = LbfgsMinimizer.Minimize(Objective, parameters, maxIterations, tolerance, (int)x.shape[0], WeightGradientNorm);
        var solution = HostTensor.From(parameters, device: x.device);
        var weight = solution.narrow(0, 0, weightCount).view(classes, dim).matmul(forwardT);
        return new LinearClassifierProbe(Keep(mean), Keep(std), Keep(weight.contiguous()), Keep(solution.narrow(0, weightCount, classes).clone()), fit);
    }

    /// <summary>
    /// P = V·(Λ + ε)^(−1/2) and P⁻¹ from the eigendecomposition C = VΛVᵀ of the standardised features' covariance,
    /// ε = max(l2, 1e-10): in U (W = U·Pᵀ) the data term's curvature scales as Λ/(Λ + ε) and the penalty's as
    /// l2/(Λ + ε), both at most 1, where in W the curvatures range over λ_max down to l2 — correlated network units
    /// make the plain problem need thousands of L-BFGS iterations (ColorMNIST LeNet features: ≈ 8 000 to 1e-6, ≈ 70 here).
    /// </summary>
    private static (Tensor Forward, Tensor Inverse) Preconditioner(Tensor standardized, double l2)
    {
        var covariance = standardized.t().matmul(standardized) / standardized.shape[0];
        var (eigenvalues, eigenvectors) = torch.linalg.eigh(covariance);
        var shifted = eigenvalues.clamp_min(0) + Math.Max(l2, 1e-10);
        return (eigenvectors * shifted.rsqrt(), (eigenvectors * shifted.sqrt()).t());
    }

    /// <summary>
    /// Ridge least squares: f = mean squared error + l2·‖W‖² on standardised features and targets (train mean/std;
    /// predictions are mapped back, so <see cref="LinearRegressorProbe.MeanSquaredError"/> is on the raw target scale).
    /// Solved exactly: with X̃ = [X, 1] and P = diag(1,…,1, 0) (the bias is not penalised), ∇f = 0 is
    /// (X̃ᵀX̃ + N·k·l2·P) Θ = X̃ᵀT, solved with <c>linalg.solve</c> (a pseudo-inverse when l2 = 0, the minimum-norm
    /// solution), then refined once by the same solve on the residual gradient. The fit's gradient norm is computed from
    /// the residuals, not from the normal equations, so it shows what the solve really achieved.
    /// </summary>
    /// <param name="trainFeatures">float [N,D].</param>
    /// <param name="trainTargets">float [N,k].</param>
    /// <param name="tolerance">Relative gradient tolerance the solve is checked against.</param>
    public static LinearRegressorProbe FitRegressor(Tensor trainFeatures, Tensor trainTargets, double l2 = DefaultL2, double tolerance = DefaultTolerance)
    {
        CheckFeatures(trainFeatures, nameof(trainFeatures));
        if (trainTargets.dim() != 2 || trainTargets.shape[0] != trainFeatures.shape[0] || !trainTargets.is_floating_point())
            throw new ArgumentException(
                $"targets must be floating [{trainFeatures.shape[0]},k], got {trainTargets.dtype} [{string.Join(",", trainTargets.shape)}]",
                nameof(trainTargets));
        CheckSettings(l2, tolerance);

        using var fitScope = torch.NewDisposeScope();
        var (x, mean, std) = Standardize(trainFeatures);
        var (t, targetMean, targetStd) = Standardize(trainTargets.to(x.device));
        var (n, dim, outputs) = (x.shape[0], x.shape[1], t.shape[1]);
        var augmented = torch.cat([x, torch.ones(n, 1, dtype: ScalarType.Float64, device: x.device)], 1);
        var penalized = torch.tensor(Enumerable.Repeat(1.0, (int)dim).Append(0.0).ToArray(), dtype: ScalarType.Float64).to(x.device).unsqueeze(1);
        // f's mean runs over N·k entries, so the normal equations carry N·k·l2 on the weight diagonal.
        var gram = augmented.t().matmul(augmented) + torch.diag(penalized.squeeze(1) * (n * outputs * l2));
        var pseudoInverse = l2 > 0 ? null : torch.linalg.pinv(gram, hermitian: true);
        Tensor Solve(Tensor rhs) => pseudoInverse is null ? torch.linalg.solve(gram, rhs) : pseudoInverse.matmul(rhs);
        double Loss(Tensor theta) =>
            (augmented.matmul(theta) - t).square().mean().item<double>() + l2 * (theta.narrow(0, 0, dim).square().sum().item<double>());
        Tensor Gradient(Tensor theta) =>
            augmented.t().matmul(augmented.matmul(theta) - t) * (2.0 / (n * outputs)) + 2 * l2 * penalized * theta;

        var initialNorm = Gradient(torch.zeros(dim + 1, outputs, dtype: ScalarType.Float64, device: x.device)).norm().item<double>();
        var solved = Solve(augmented.t().matmul(t));
        var solvedLoss = Loss(solved);
        var refined = solved - Solve(Gradient(solved) * (n * outputs / 2.0));
        var (refinedLoss, refinedNorm, solvedNorm) = (Loss(refined), Gradient(refined).norm().item<double>(), Gradient(solved).norm().item<double>());
        // Refinement cannot help once the solve is at the float64 floor; keep whichever point has the smaller gradient.
        var (theta, loss, norm, change) = refinedNorm <= solvedNorm
            ? (refined, refinedLoss, refinedNorm, solvedLoss - refinedLoss)
            : (solved, solvedLoss, solvedNorm, 0.0);
        if (!torch.isfinite(theta).all().item<bool>())
            throw new InvalidOperationException("the least-squares probe solve produced non-finite weights");
        var converged = norm <= tolerance * initialNorm;
        var fit = new ProbeFit(ProbeSolver.ExactSolve, (int)n, 0, converged,
            converged ? ProbeStopReason.GradientTolerance : ProbeStopReason.InexactSolve, loss, norm, initialNorm, change, tolerance, 0);
        return new LinearRegressorProbe(Keep(mean), Keep(std), Keep(theta.narrow(0, 0, dim).t().contiguous()), Keep(theta[dim].clone()),
            Keep(targetMean), Keep(targetStd), fit);
    }

    /// <summary>Share of the most frequent label: the accuracy of always guessing it (the chance level for categorical z).</summary>
    /// <param name="labels">int64 [N], non-negative.</param>
    public static double MajorityRate(Tensor labels)
    {
        CheckLabels(labels, labels.shape.Length == 1 ? labels.shape[0] : -1, nameof(labels));
        using var scope = torch.NewDisposeScope();
        if (labels.min().item<long>() < 0) throw new ArgumentException("labels must be non-negative", nameof(labels));
        return torch.bincount(labels).max().item<long>() / (double)labels.shape[0];
    }

    /// <summary>float64 copy of <paramref name="values"/> standardised per column, with the mean and std used.</summary>
    internal static (Tensor Standardized, Tensor Mean, Tensor Std) Standardize(Tensor values)
    {
        var x = values.detach().to_type(ScalarType.Float64);
        var mean = x.mean([0L], keepdim: true);
        var std = x.std([0L], unbiased: false, keepdim: true);
        std = torch.where(std > 1e-12, std, torch.ones_like(std));
        return ((x - mean) / std, mean, std);
    }

    internal static void CheckFeatures(Tensor features, string name)
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (features.dim() != 2 || !features.is_floating_point() || features.shape[0] < 1)
            throw new ArgumentException($"features must be floating [N,D] with N ≥ 1, got {features.dtype} [{string.Join(",", features.shape)}]", name);
    }

    internal static void CheckLabels(Tensor labels, long count, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != count || count < 1)
            throw new ArgumentException($"labels must be int64 [{count}], got {labels.dtype} [{string.Join(",", labels.shape)}]", name);
    }

    private static void CheckSettings(double l2, double tolerance)
    {
        if (!(l2 >= 0) || double.IsInfinity(l2)) throw new ArgumentException($"l2 must be a finite non-negative number, got {l2}", nameof(l2));
        if (!(tolerance > 0) || !double.IsFinite(tolerance)) throw new ArgumentException($"tolerance must be a positive number, got {tolerance}", nameof(tolerance));
    }

    private static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();

    /// <summary>(standardise(features) · Wᵀ + b) in float64: the map both probes apply, with the feature count checked.</summary>
    internal static Tensor ApplyOnStandardized(Tensor features, Tensor mean, Tensor std, Tensor weight, Tensor bias)
    {
        CheckFeatures(features, nameof(features));
        if (features.shape[1] != weight.shape[1])
            throw new ArgumentException($"features have {features.shape[1]} columns, the probe was fitted on {weight.shape[1]}", nameof(features));
        using var scope = torch.NewDisposeScope();
        var x = (features.detach().to_type(ScalarType.Float64).to(mean.device) - mean) / std;
        return (x.matmul(weight.t()) + bias).MoveToOuterDisposeScope();
    }
}
