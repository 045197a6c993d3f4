namespace StatFormer.Analysis;

/// <summary>How a probe was solved (see <see cref="ProbeFit.Solver"/>).</summary>
public enum ProbeSolver
{
    /// <summary>Limited-memory BFGS with a backtracking line search (the classifiers: cross-entropy has no closed form).</summary>
    Lbfgs,

    /// <summary>The ridge normal equations solved with <c>linalg.solve</c>, plus one refinement step (the regressor: least squares).</summary>
    ExactSolve,
}

/// <summary>Why a probe fit stopped.</summary>
public enum ProbeStopReason
{
    /// <summary>The convergence criterion held: ‖∇f‖₂ ≤ tolerance · ‖∇f(0)‖₂.</summary>
    GradientTolerance,

    /// <summary>The iteration cap was reached before the criterion held: the probe is under-converged.</summary>
    IterationCap,

    /// <summary>
    /// f stopped decreasing before the criterion held — the line search found no decrease even along steepest descent, or
    /// 10 steps in a row left f unchanged: the float64 floor, below the tolerance asked for.
    /// </summary>
    NoDecrease,

    /// <summary>An exact solve whose final gradient still misses the tolerance (a singular or extremely ill-conditioned system).</summary>
    InexactSolve,
}

/// <summary>
/// The evidence that a linear probe reached the optimum of its objective f (loss + l2·‖W‖² on standardised features,
/// see <see cref="LinearProbe"/>): the fit is <see cref="Converged"/> when ‖∇f(θ)‖₂ ≤ <see cref="Tolerance"/> · ‖∇f(0)‖₂,
/// the gradient at the zero start. Written per probe into every fair run's summary.json.
/// </summary>
/// <param name="Solver">L-BFGS (classifiers) or the exact solve (regressor).</param>
/// <param name="TrainCount">Train representations the probe was fitted on.</param>
/// <param name="Iterations">L-BFGS iterations (accepted steps); 0 for the exact solve.</param>
/// <param name="Converged">Whether the gradient criterion holds at the returned weights.</param>
/// <param name="StopReason">Why the fit stopped.</param>
/// <param name="Loss">Final value of the objective f.</param>
/// <param name="GradientNorm">‖∇f‖₂ at the returned weights (all of W and b).</param>
/// <param name="InitialGradientNorm">‖∇f‖₂ at the zero start.</param>
/// <param name="LastLossChange">Decrease of f in the last step (L-BFGS iteration or refinement step of the solve); 0 when none was taken.</param>
/// <param name="Tolerance">The relative gradient tolerance of the criterion.</param>
/// <param name="MaxIterations">The iteration cap (L-BFGS); 0 for the exact solve.</param>
public sealed record ProbeFit(
    ProbeSolver Solver, int TrainCount, int Iterations, bool Converged, ProbeStopReason StopReason,
    double Loss, double GradientNorm, double InitialGradientNorm, double LastLossChange, double Tolerance, int MaxIterations)
{
    /// <summary>‖∇f‖₂ / ‖∇f(0)‖₂, the quantity the criterion bounds (0 when the start was already optimal).</summary>
    public double RelativeGradientNorm => InitialGradientNorm > 0 ? GradientNorm / InitialGradientNorm : 0;
}
