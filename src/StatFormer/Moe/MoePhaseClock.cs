using System.Diagnostics;

namespace StatFormer.Moe;

/// <summary>The parts of an MoE training step that <see cref="MoePhaseClock"/> separates.</summary>
public enum MoePhase
{
    /// <summary>The router's logits.</summary>
    Router,
    /// <summary>Top-k selection, gate weights and the balance loss.</summary>
    TopKAndBalance,
    /// <summary>Capacity, grouping assignments by expert and gathering their tokens.</summary>
    Permutation,
    /// <summary>The experts' two matmuls, biases and GELU.</summary>
    ExpertMatmuls,
    /// <summary>Gate scaling and summing each token's expert outputs (and dropout).</summary>
    Combine,
}

/// <summary>
/// Accumulates time per <see cref="MoePhase"/> of the MoE layers it is attached to
/// (<see cref="MoeFeedForward.PhaseClock"/>), and the rows their experts computed against the assignments they kept
/// (padding). libtorch's CPU kernels run synchronously, so a lap measures the ops issued since the previous one.
/// For benchmarks only; null (the default) costs nothing.
/// </summary>
/// <param name="nowMilliseconds">The clock (milliseconds from any origin); null: wall-clock time.</param>
public sealed class MoePhaseClock(Func<double>? nowMilliseconds = null)
{
    private readonly Func<double> now = nowMilliseconds ?? (() => Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency);
    private readonly double[] milliseconds = new double[Enum.GetValues<MoePhase>().Length];
    private double last;

    /// <summary>Starts a lap (the time since the previous lap is not counted).</summary>
    public void Start() => last = now();

    /// <summary>Adds the time since the previous lap or <see cref="Start"/> to <paramref name="phase"/>.</summary>
    public void Lap(MoePhase phase)
    {
        var reading = now();
        milliseconds[(int)phase] += reading - last;
        last = reading;
    }

    /// <summary>Total milliseconds of <paramref name="phase"/> so far.</summary>
    public double Milliseconds(MoePhase phase) => milliseconds[(int)phase];

    /// <summary>Adds one forward's expert rows: <paramref name="computed"/> run through the expert MLPs (padding included) for <paramref name="kept"/> kept assignments.</summary>
    public void CountRows(long computed, long kept)
    {
        ComputedRows += computed;
        KeptAssignments += kept;
    }

    /// <summary>Rows the experts computed so far, padding included.</summary>
    public long ComputedRows { get; private set; }

    /// <summary>Kept assignments so far (the rows an exact-size computation would compute).</summary>
    public long KeptAssignments { get; private set; }
}
