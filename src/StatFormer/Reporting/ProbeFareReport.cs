using System.Globalization;
using StatFormer.Contrastive;
using StatFormer.Options;
using StatFormer.Probes.Fare;

namespace StatFormer.Reporting;

/// <summary>The FARE probe's findings, report.md, probe.json and plot.</summary>
public static class ProbeFareReport
{
    /// <summary>Accuracy of a method within this many points of InfoNCE's counts as "kept".</summary>
    public const double AccuracyTolerance = 2.0;

    /// <summary>Per method against InfoNCE: bias removed and accuracy kept; then FARE's attention against the ideal.</summary>
    public static IReadOnlyList<ProbeFinding> Findings(FareProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var findings = new List<ProbeFinding>();
        var infoNce = result.Methods.FirstOrDefault(m => m.Method == ContrastiveMethod.InfoNce);
        foreach (var m in result.Methods.Where(m => m.BiasRemoved is not null))
        {
            var name = EnumNames.Cli(m.Method);
            findings.Add(new ProbeFinding($"FARE probe, {name} vs infonce",
                "less of the sensitive group recoverable from the representation (lower linear-probe accuracy: negatives of other groups no longer reward encoding z)",
                $"group-probe accuracy infonce {infoNce!.GroupAccuracy.Format(1)} %, {name} {m.GroupAccuracy.Format(1)} % (chance {Chance(result)} %, {m.GroupAccuracy.N} seeds)",
                ProbeVerdicts.Of(m.BiasRemoved!)));
            var change = m.AccuracyChange!;
            findings.Add(new ProbeFinding($"FARE probe, {name} vs infonce",
                $"the task accuracy kept (within {AccuracyTolerance:F0} points of infonce's: the class does not depend on z)",
                $"target accuracy infonce {infoNce.TargetAccuracy.Format(1)} %, {name} {m.TargetAccuracy.Format(1)} % ({m.TargetAccuracy.N} seeds)",
                ProbeVerdicts.Of(new MeanStd(change.Mean + AccuracyTolerance, change.Std, change.N))));
        }
        if (result.KlDecrease is { } decrease)
            findings.Add(new ProbeFinding("FARE attention",
                "training moves the attention toward the ideal one (uniform over same-group negatives): KL(ideal ‖ FARE) lower than at the W = I start",
                $"KL {result.KlToIdeal!.Format(3)} nats (start {Format(result.KlToIdeal.Mean + decrease.Mean)}); attention on same-group negatives {result.SameGroupMass!.Format(3)} " +
                $"(start {result.SameGroupMassAtStart!.Format(3)}, ideal 1, uniform {result.UniformSameGroupMass!.Format(3)}; {decrease.N} seeds)",
                ProbeVerdicts.Of(decrease)));
        return findings;
    }

    /// <summary>Writes probe.json, report.md and accuracy-vs-bias.png into <paramref name="outDir"/>.</summary>
    public static void Write(FareProbeResult result, string outDir)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(outDir);
        var findings = Findings(result);
        JsonOutput.WriteFile(Path.Combine(outDir, "probe.json"), new { result, findings = findings.Select(f => f.Line).ToArray() });
        Plots.LineChart(Path.Combine(outDir, "accuracy-vs-bias.png"), "FARE probe: task accuracy vs sensitive-group probe accuracy (lower x = fairer)",
            "group-probe accuracy (%)", "target accuracy (%)",
            result.Methods.Select(m => new Series(EnumNames.Cli(m.Method), [m.GroupAccuracy.Mean], [m.TargetAccuracy.Mean], [m.TargetAccuracy.Std])).ToList());

        var o = result.Options;
        var report = new MarkdownReport("FARE probe: a sensitive attribute that the negatives leak");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"{o.Classes} classes, {o.Groups} sensitive groups (z on the unit circle), F = {o.Features} features with z scaled by {o.Leak} in the last two; " +
            $"MLP {o.Features}-{o.Hidden}-{o.Representation}, {o.Steps} Adam steps of {o.BatchSize}, τ = {o.Temperature}, {o.Seeds} seeds; probes fitted on {o.TrainSamples} train samples, " +
            $"tested on {o.TestSamples}. {result.Seconds:F0} s. Generator and ideal attention: docs/probes.md."));
        report.Heading("Findings");
        report.Paragraph(string.Join("\n", findings.Select(f => "- " + f.Line)));
        report.Heading("Methods");
        report.Table(["method", "target accuracy %", "group-probe accuracy %", "bias removed vs infonce (points)"],
            result.Methods.Select(m => (IReadOnlyList<string>)[EnumNames.Cli(m.Method), m.TargetAccuracy.Format(1), m.GroupAccuracy.Format(1), m.BiasRemoved?.Format(1) ?? "–"]));
        report.Image("task accuracy vs group-probe accuracy", "accuracy-vs-bias.png");
        report.Save(Path.Combine(outDir, "report.md"));
    }

    private static string Chance(FareProbeResult result) => MeanStd.Of(result.Runs.Select(r => r.GroupMajorityRate)).Format(1);

    private static string Format(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
