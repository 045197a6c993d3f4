using StatFormer.Moe;
using StatFormer.Options;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Benchmarks;

/// <summary>The problem size and repeats of the MoE benchmark.</summary>
public sealed record MoeBenchmarkOptions
{
    /// <summary>Sequences per batch.</summary>
    public int Batch { get; init; } = 16;
    /// <summary>Tokens per sequence.</summary>
    public int Seq { get; init; } = 128;
    /// <summary>Model width.</summary>
    public int DModel { get; init; } = 128;
    /// <summary>Experts per MoE layer.</summary>
    public int Experts { get; init; } = 8;
    /// <summary>Experts per token.</summary>
    public int TopK { get; init; } = 2;
    /// <summary>Hidden width of each expert.</summary>
    public int ExpertHidden { get; init; } = 256;
    /// <summary>Untimed steps before measuring.</summary>
    public int Warmup { get; init; } = 3;
    /// <summary>Timed steps per measurement (median).</summary>
    public int Repeats { get; init; } = 10;
    /// <summary>Interleaved rounds (the best is kept).</summary>
    public int Rounds { get; init; } = 3;
    /// <summary>Seeds the weights and inputs.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>The MoE options of the timed layers (no dropout, no capacity limit, defaults otherwise).</summary>
    public MoeOptions ToMoeOptions() => new() { Experts = Experts, TopK = TopK, ExpertHidden = ExpertHidden };

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Batch >= 1, nameof(Batch), $"must be at least 1 (got {Batch})");
        OptionCheck.Require(Seq >= 1, nameof(Seq), $"must be at least 1 (got {Seq})");
        OptionCheck.Require(DModel >= 1, nameof(DModel), $"must be at least 1 (got {DModel})");
        OptionCheck.Require(Repeats >= 1, nameof(Repeats), $"must be at least 1 (got {Repeats})");
        OptionCheck.Require(Warmup >= 0, nameof(Warmup), $"must not be negative (got {Warmup})");
        OptionCheck.Require(Rounds >= 1, nameof(Rounds), $"must be at least 1 (got {Rounds})");
        // The layer options use the same property names (Experts, TopK, ExpertHidden).
        ToMoeOptions().Validate();
    }
}

/// <summary>One timed variant: a two-layer stack, its parameter count and milliseconds per training step.</summary>
/// <param name="Variant">dense, smoe, ac-smoe, xmoe or ac-xmoe (the second layer of the stack).</param>
/// <param name="Stack">The two layers, e.g. "smoe+ac-smoe".</param>
/// <param name="Breakdown">Where a step's time goes (a separate pass of the same steps).</param>
/// <param name="PeakResidentMiB">Peak resident memory of the process during that pass (see <see cref="ResidentMemory"/>).</param>
/// <param name="StepMemoryMiB">Peak minus the resident memory before the pass: what a step adds on top of the model, its
/// gradients and optimizer state (activations kept for backward, gradients, temporaries, allocator growth).</param>
/// <param name="ExpertRowsPerAssignment">Rows the experts computed per kept assignment over both MoE layers: 1 for exact-size
/// experts, C·E/K with the buffer padded to the busiest expert (the routing's imbalance, which depends on the router's
/// weights: 1.04–1.33 per layer over seeds 0–5 at the default size); NaN for the dense stack.</param>
public sealed record MoeBenchmarkVariant(string Variant, string Stack, long Parameters, double StepMs, MoeStepBreakdown Breakdown,
    double PeakResidentMiB, double StepMemoryMiB, double ExpertRowsPerAssignment);

/// <summary>
/// Milliseconds per training step by part, summed over both layers of a stack. The MoE parts (router … combine) are the
/// forward passes of the MoE layers (<see cref="MoePhaseClock"/>); a dense stack has none of them and all its forward
/// is <see cref="OtherForward"/>. Backward covers every layer; it is not split because autograd runs it as one call.
/// </summary>
/// <param name="OtherForward">Forward outside the MoE layers: residual adds, the loss (dense: the FFNs themselves).</param>
/// <param name="Optimizer">zero_grad and the AdamW update (proportional to all parameters, not the active ones).</param>
public sealed record MoeStepBreakdown(double Router, double TopKAndBalance, double Permutation, double ExpertMatmuls, double Combine,
    double OtherForward, double Backward, double Optimizer)
{
    public double Total => Router + TopKAndBalance + Permutation + ExpertMatmuls + Combine + OtherForward + Backward + Optimizer;
}

/// <summary>Training-step milliseconds of every variant and the ratios of interest.</summary>
/// <param name="RatioAcSmoeSmoe">AC-SMoE / SMoE step time: the median over back-to-back pairs of steps (order alternating), so
/// that machine-load drift, which moves whole medians by ±20 % on a small shared VM, cancels within each pair.</param>
/// <param name="RatioAcXmoeXmoe">AC-XMoE / XMoE, paired the same way.</param>
/// <param name="RatioSmoeDensePaired">SMoE / dense, paired the same way (<see cref="RatioSmoeDense"/> divides the two best medians).</param>
/// <param name="Clock">What the step times measure (wall-clock or process CPU time).</param>
/// <param name="Computation">How the MoE layers computed their experts (<see cref="MoeFeedForward.Computation"/>'s automatic choice for this thread count).</param>
public sealed record MoeBenchmarkResult(int Batch, int Seq, int DModel, int Experts, int TopK, int ExpertHidden, int DenseHidden,
    IReadOnlyList<MoeBenchmarkVariant> Variants, double RatioAcSmoeSmoe, double RatioAcXmoeXmoe, bool PeakMemoryPerVariant,
    double RatioSmoeDensePaired, BenchmarkClock Clock, ExpertComputation Computation)
{
    public double StepMs(string variant) =>
        Variants.FirstOrDefault(v => v.Variant == variant)?.StepMs ?? throw new ArgumentException($"no variant '{variant}' in the result");

    public double RatioSmoeDense => StepMs("smoe") / StepMs("dense");

    /// <summary>
    /// The SMoE/dense ratio of matmul FLOPs per training step (forward + backward ≈ 3 × forward): per token and layer,
    /// dense 4·d·H with H = k·h, SMoE 4·d·k·h + 2·d·E (the router). The floor a dispatch can reach on the arithmetic
    /// alone; the optimizer's update over E/k times the dense FFN's parameters comes on top.
    /// </summary>
    public double FlopLimitSmoeDense => FlopRatio(expertRowsPerAssignment: 1.0);

    // Matmul FLOPs per token and layer, SMoE over dense, with the experts computing this many rows per assignment.
    private double FlopRatio(double expertRowsPerAssignment) =>
        (4.0 * DModel * TopK * ExpertHidden * expertRowsPerAssignment + 2.0 * DModel * Experts) / (4.0 * DModel * DenseHidden);

    /// <summary>
    /// <see cref="FlopLimitSmoeDense"/> plus the optimizer's extra time on the E/k times larger MoE parameter set, as the
    /// breakdown measured it (SMoE optimizer ms − dense optimizer ms, over the dense step): the floor once the
    /// memory-bound AdamW update, which no dispatch can avoid, is counted.
    /// </summary>
    public double LimitWithOptimizerSmoeDense => FlopLimitSmoeDense + OptimizerExtra;

    /// <summary>
    /// <see cref="LimitWithOptimizerSmoeDense"/> with the expert FLOPs scaled by the rows the SMoE experts actually
    /// computed per assignment (<see cref="MoeBenchmarkVariant.ExpertRowsPerAssignment"/>): the floor of this dispatch on
    /// this routing, so that the measured ratio's distance from it is what routing, permutation and combine cost.
    /// </summary>
    public double LimitWithPaddingSmoeDense => FlopRatio(Variants.First(v => v.Variant == "smoe").ExpertRowsPerAssignment) + OptimizerExtra;

    private double OptimizerExtra
    {
        get
        {
            var dense = Variants.First(v => v.Variant == "dense");
            var smoe = Variants.First(v => v.Variant == "smoe");
            return Math.Max(0, smoe.Breakdown.Optimizer - dense.Breakdown.Optimizer) / dense.StepMs;
        }
    }
}

/// <summary>
/// Times a training step (forward, backward, AdamW update) of a two-layer residual stack
/// h = x + L1(x); y = h + L2(h) on random input [B,T,d], for L2 = dense FFN, SMoE, AC-SMoE, XMoE and AC-XMoE.
/// Every MoE stack has the same first layer kind as the base of its second (smoe+smoe, smoe+ac-smoe,
/// xmoe+xmoe, xmoe+ac-xmoe), so the AC layers get real previous routing and each AC/base ratio isolates the
/// AC router's cost. The dense stack has two FFNs of hidden width ExpertHidden·TopK (equal active parameters
/// per token). The loss is mean(y²) plus 0.01 × the MoE balance losses. Median of the repeats, best of
/// interleaved rounds (drifting machine load hits all variants alike).
/// </summary>
public static class MoeBenchmark
{
    private const double BalanceWeight = 0.01;

    public static IReadOnlyList<MoeKind> MoeVariants { get; } = new[] { MoeKind.Smoe, MoeKind.AcSmoe, MoeKind.Xmoe, MoeKind.AcXmoe };

    /// <param name="device">Where the layers and the input run (default: the CPU); they are initialised on the CPU and moved. The phase
    /// breakdown and the resident memory are the host's view (without synchronisation on a GPU, read them on the CPU only).</param>
    public static MoeBenchmarkResult Measure(MoeBenchmarkOptions options, Device? device = null)
    {
        BenchmarkAllocator.RetainFreedMemory();
        device ??= CPU;
        options.Validate();
        var moeOptions = options.ToMoeOptions();
        var denseHidden = options.ExpertHidden * options.TopK;
        torch.manual_seed(options.Seed);
        using var x = randn(options.Batch, options.Seq, options.DModel, device: CPU).to(device);

        var stacks = new List<Stack> { Stack.Dense(options.DModel, denseHidden, device) };
        stacks.AddRange(MoeVariants.Select(kind => Stack.Moe(options.DModel, kind, moeOptions, device)));
        try
        {
            var times = stacks.Select(_ => new List<double>()).ToList();
            for (var round = 0; round < options.Rounds; round++)
                for (var s = 0; s < stacks.Count; s++)
                {
                    var stack = stacks[s];
                    times[s].Add(BenchmarkTimer.MedianMilliseconds(() => stack.Step(x), options.Warmup, options.Repeats, device));
                }
            // The breakdown pass is interleaved like the timing: per variant the round with the least total time, the largest peak.
            var profiles = stacks.Select(_ => new List<(MoeStepBreakdown Breakdown, double PeakMiB, double IncreaseMiB, bool PeakReset, double RowsPerAssignment)>()).ToList();
            for (var round = 0; round < options.Rounds; round++)
                for (var s = 0; s < stacks.Count; s++)
                    profiles[s].Add(stacks[s].Profile(x, options.Repeats));
            var peakPerVariant = profiles.All(p => p.All(r => r.PeakReset));
            var variants = stacks.Select((s, i) => new MoeBenchmarkVariant(s.Variant, s.Description, s.Parameters, times[i].Min(),
                profiles[i].MinBy(r => r.Breakdown.Total)!.Breakdown, profiles[i].Max(r => r.PeakMiB), profiles[i].Max(r => r.IncreaseMiB),
                profiles[i][0].RowsPerAssignment)).ToList();
            Stack Named(string name) => stacks.First(s => s.Variant == name);
            var pairs = options.Repeats * options.Rounds;
            double Paired(string numerator, string denominator) => BenchmarkTimer.PairedRatio(() => Named(numerator).Step(x), () => Named(denominator).Step(x), pairs, device);
            return new MoeBenchmarkResult(options.Batch, options.Seq, options.DModel, options.Experts, options.TopK, options.ExpertHidden, denseHidden, variants,
                Paired("ac-smoe", "smoe"), Paired("ac-xmoe", "xmoe"), peakPerVariant, Paired("smoe", "dense"), BenchmarkTimer.Clock,
                MoeFeedForward.AutoComputation(device));
        }
        finally
        {
            foreach (var stack in stacks) stack.Dispose();
        }
    }

    /// <summary>Two residual layers and their optimizer.</summary>
    private sealed class Stack : IDisposable
    {
        private readonly nn.Module first;
        private readonly nn.Module second;
        private readonly MoeFeedForward[] moeLayers;
        private readonly Func<Tensor, Tensor> forward;
        private readonly optim.Optimizer optimizer;

        private Stack(string variant, string description, nn.Module first, nn.Module second, Func<Tensor, Tensor> forward)
        {
            Variant = variant;
            Description = description;
            this.first = first;
            this.second = second;
            this.forward = forward;
            moeLayers = new[] { first, second }.OfType<MoeFeedForward>().ToArray();
            first.train();
            second.train();
            var parameters = first.parameters().Concat(second.parameters()).ToList();
            Parameters = parameters.Sum(p => p.numel());
            optimizer = optim.AdamW(parameters, lr: 1e-4);
        }

        public string Variant { get; }
        public string Description { get; }
        public long Parameters { get; }

        public static Stack Dense(int dModel, int hidden, Device device)
        {
            var a = new FeedForward(dModel, hidden, 0.0, "ffn1");
            var b = new FeedForward(dModel, hidden, 0.0, "ffn2");
            a.to(device);
            b.to(device);
            return new Stack("dense", "dense+dense", a, b, x =>
            {
                var h = x + a.forward(x);
                return (h + b.forward(h)).square().mean();
            });
        }

        public static Stack Moe(int dModel, MoeKind kind, MoeOptions options, Device device)
        {
            var baseKind = MoeKindNames.BaseOf(kind);
            var a = new MoeFeedForward(dModel, baseKind, options, causal: true, "moe1");
            var b = new MoeFeedForward(dModel, kind, options, causal: true, "moe2");
            a.to(device);
            b.to(device);
            return new Stack(EnumNames.Cli(kind), $"{EnumNames.Cli(baseKind)}+{EnumNames.Cli(kind)}", a, b, x =>
            {
                var one = a.forward(x, null);
                var h = x + one.Output;
                var two = b.forward(h, one.Routing);
                return (h + two.Output).square().mean() + BalanceWeight * (one.BalanceLoss + two.BalanceLoss);
            });
        }

        public void Step(Tensor x)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            forward(x).backward();
            optimizer.step();
        }

        /// <summary>
        /// The process's peak RSS reset, one untimed step, then <paramref name="steps"/> more with the MoE layers' phase clock
        /// attached: the per-step breakdown, the peak (MiB), the peak over the RSS before them, whether the reset worked, and
        /// the expert rows computed per kept assignment (NaN without MoE layers).
        /// </summary>
        public (MoeStepBreakdown Breakdown, double PeakMiB, double IncreaseMiB, bool PeakReset, double RowsPerAssignment) Profile(Tensor x, int steps)
        {
            GC.Collect();
            var reset = ResidentMemory.TryResetPeak();
            var before = ResidentMemory.CurrentBytes();
            // One untimed step first: the peak reset returned the allocator's free memory to the system, and the first
            // step after it page-faults its working set back in, which would inflate the breakdown (not the peak).
            Step(x);
            var clock = new MoePhaseClock(BenchmarkTimer.NowMilliseconds);
            foreach (var layer in moeLayers) layer.PhaseClock = clock;
            double forwardMs = 0, backwardMs = 0, optimizerMs = 0;
            try
            {
                for (var i = 0; i < steps; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    var start = BenchmarkTimer.NowMilliseconds();
                    optimizer.zero_grad();
                    var zeroEnd = BenchmarkTimer.NowMilliseconds();
                    var loss = forward(x);
                    var forwardEnd = BenchmarkTimer.NowMilliseconds();
                    loss.backward();
                    var backwardEnd = BenchmarkTimer.NowMilliseconds();
                    optimizer.step();
                    forwardMs += forwardEnd - zeroEnd;
                    backwardMs += backwardEnd - forwardEnd;
                    optimizerMs += zeroEnd - start + BenchmarkTimer.NowMilliseconds() - backwardEnd;
                }
            }
            finally
            {
                foreach (var layer in moeLayers) layer.PhaseClock = null;
            }
            var peak = ResidentMemory.PeakBytes();
            double PerStep(double ms) => ms / steps;
            var moeMs = Enum.GetValues<MoePhase>().Sum(clock.Milliseconds);
            var breakdown = new MoeStepBreakdown(PerStep(clock.Milliseconds(MoePhase.Router)), PerStep(clock.Milliseconds(MoePhase.TopKAndBalance)),
                PerStep(clock.Milliseconds(MoePhase.Permutation)), PerStep(clock.Milliseconds(MoePhase.ExpertMatmuls)), PerStep(clock.Milliseconds(MoePhase.Combine)),
                PerStep(forwardMs - moeMs), PerStep(backwardMs), PerStep(optimizerMs));
            const double mib = 1024.0 * 1024.0;
            var rows = clock.KeptAssignments > 0 ? (double)clock.ComputedRows / clock.KeptAssignments : double.NaN;
            return (breakdown, peak / mib, Math.Max(0, peak - before) / mib, reset, rows);
        }

        public void Dispose()
        {
            optimizer.Dispose();
            first.Dispose();
            second.Dispose();
        }
    }
}
