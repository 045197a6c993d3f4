using System.CommandLine;
using StatFormer.Contrastive;
using StatFormer.Probes.AdaptiveClustering;
using StatFormer.Probes.Elliptical;
using StatFormer.Probes.Fare;
using StatFormer.Reporting;

namespace StatFormer.Cli.Commands;

/// <summary>
/// The first part of `statformer demo`: the three mechanism probes (docs/probes.md) at sizes of about 40 s each on two cores,
/// each ending with one plain-language line per result — the effect its paper predicts, the effect measured, whether they agree.
/// </summary>
public static class DemoProbes
{
    /// <summary>In-context kernel regression: 1 and 2 relevant of 4 coordinates, and 20 % contaminated keys.</summary>
    public static EllipticalProbeOptions Elliptical { get; } = new() { RelevantCounts = [1, 2], NoiseLevels = [0.1], Contaminations = [0.0, 0.2], Steps = 300 };

    /// <summary>Clusters on feature subsets at one noise level, both base routers against their AC versions.</summary>
    public static AcProbeOptions Ac { get; } = new() { NoiseLevels = [2.0], Routers = ["smoe", "xmoe"], Steps = 300 };

    /// <summary>InfoNCE, Fair-InfoNCE (the conditional negatives FARE approximates) and FARE.</summary>
    public static FareProbeOptions Fare { get; } = new() { Methods = [ContrastiveMethod.InfoNce, ContrastiveMethod.FairInfoNce, ContrastiveMethod.Fare] };

    /// <summary>Adds --probe-seeds and --probe-steps to the demo command; the returned function runs the probes (or nothing with 0 seeds).</summary>
    public static Func<ParseResult, string, bool, TorchSharp.torch.Device, CancellationToken, DemoProbeSummary?> AddTo(Command command)
    {
        var seeds = new Option<int>("--probe-seeds") { Description = Describe("ProbeSeeds"), DefaultValueFactory = _ => Elliptical.Seeds };
        var steps = new Option<int>("--probe-steps") { Description = Describe("ProbeSteps"), DefaultValueFactory = _ => 0 };
        command.Options.Add(seeds);
        command.Options.Add(steps);
        return (result, outDir, json, device, cancellationToken) =>
        {
            var n = result.GetValue(seeds);
            var s = result.GetValue(steps);
            if (n < 0) throw new ArgumentException($"must be 0 (skip) or positive (got {n})", "ProbeSeeds");
            if (s < 0) throw new ArgumentException($"must be 0 (the probes' own) or positive (got {s})", "ProbeSteps");
            return n == 0 ? null : Run(outDir, n, s == 0 ? null : s, json, cancellationToken, device);
        };
    }

    /// <summary>Runs the three probes into <paramref name="outDir"/>/probe-{elliptical,ac,fare}.</summary>
    public static DemoProbeSummary Run(string outDir, int seeds, int? steps, bool json, CancellationToken cancellationToken, TorchSharp.torch.Device? device = null)
    {
        if (!json) Output.Line("Mechanism probes — controlled tasks where each paper's argument predicts an effect (docs/probes.md)");
        var elliptical = ProbeCommand.RunElliptical(Elliptical with { Seeds = seeds, Steps = steps ?? Elliptical.Steps, OutDir = Path.Combine(outDir, "probe-elliptical") }, json, cancellationToken, device);
        var ac = ProbeCommand.RunAc(Ac with { Seeds = seeds, Steps = steps ?? Ac.Steps, OutDir = Path.Combine(outDir, "probe-ac") }, json, cancellationToken, device);
        var fare = ProbeCommand.RunFare(Fare with { Seeds = seeds, Steps = steps ?? Fare.Steps, OutDir = Path.Combine(outDir, "probe-fare") }, json, cancellationToken, device);
        return new DemoProbeSummary(
            [.. ProbeEllipticalReport.Findings(elliptical).Select(f => f.Line), .. ProbeAcReport.Findings(ac).Select(f => f.Line), .. ProbeFareReport.Findings(fare).Select(f => f.Line)],
            elliptical.Seconds + ac.Seconds + fare.Seconds);
    }

    private static string Describe(string path) => OptionFlags.Comparison.First(f => f.Path == path).Description;
}

/// <summary>What `demo --json` reports of the probes: every finding line and their total time.</summary>
public sealed record DemoProbeSummary(IReadOnlyList<string> Findings, double Seconds);
