using System.CommandLine;
using System.Globalization;
using StatFormer.Probes.AdaptiveClustering;
using StatFormer.Probes.Elliptical;
using StatFormer.Probes.Fare;
using StatFormer.Reporting;

namespace StatFormer.Cli.Commands;

/// <summary>
/// `statformer probe elliptical|ac|fare`: small controlled tasks built so that each paper's own argument predicts a
/// measurable effect (docs/probes.md). Each prints a table, one plain-language line per result, and writes probe.json,
/// report.md and plots to --out.
/// </summary>
public static class ProbeCommand
{
    public static Command Build()
    {
        var probe = new Command("probe", "Mechanism probes: controlled synthetic tasks where each paper's theory predicts an effect; prints what was predicted, what was measured (mean ± sd over seeds) and whether they agree.");
        probe.Subcommands.Add(BuildElliptical());
        probe.Subcommands.Add(BuildAc());
        probe.Subcommands.Add(BuildFare());
        return probe;
    }

    private static Command BuildElliptical()
    {
        var command = new Command("elliptical", "In-context kernel regression (v = f(k) + noise, f varying along few key coordinates): softmax vs elliptical attention, query MSE vs relevant coordinates, noise and key contamination; m against the true relevance.");
        var defaults = new EllipticalProbeOptions();
        var tree = new OptionTree<EllipticalProbeOptions>(OptionFlags.ProbeElliptical, defaults);
        tree.AddTo(command);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var options = tree.Read(result, defaults);
            RunElliptical(options, result.GetValue(json), cancellationToken, DeviceFlag.Read(result, deviceFlag));
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the elliptical probe, writes its files and prints its table and findings (or, with <paramref name="json"/>, nothing: the caller prints).</summary>
    public static EllipticalProbeResult RunElliptical(EllipticalProbeOptions options, bool json, CancellationToken cancellationToken, TorchSharp.torch.Device? device = null)
    {
        options.Validate();
        var result = EllipticalProbe.Run(options, json ? null : Console.Error.WriteLine, cancellationToken, device);
        ProbeEllipticalReport.Write(result, options.OutDir);
        if (json)
        {
            Output.Json(new { result, findings = ProbeEllipticalReport.Findings(result).Select(f => f.Line).ToArray() });
            return result;
        }
        Output.Table(string.Create(CultureInfo.InvariantCulture, $"probe elliptical (query MSE, {options.Seeds} seeds, {result.Seconds:F0} s)"),
            ["sweep", "relevant", "noise", "contamination", "softmax", "elliptical", "NW spherical", "NW ideal ellipse", "context mean", "m AUROC"],
            result.Cells.Select(c => (IReadOnlyList<string>)
            [
                c.Setting.Sweep, c.Setting.Relevant.ToString(CultureInfo.InvariantCulture), c.Setting.Noise.ToString(CultureInfo.InvariantCulture),
                c.Setting.Contamination.ToString(CultureInfo.InvariantCulture), c.SoftmaxMse.Format(4), c.EllipticalMse.Format(4), c.SphericalKernelMse.Format(4), c.IdealKernelMse.Format(4), c.ContextMeanMse.Format(4), c.MetricAuroc?.Format(3) ?? "–",
            ]));
        foreach (var finding in ProbeEllipticalReport.Findings(result)) Output.Line(finding.Line);
        Output.Line($"report: {Path.Combine(options.OutDir, "report.md")}");
        return result;
    }

    private static Command BuildAc()
    {
        var command = new Command("ac", "Clusters on feature subsets (each tight along its own features, spread along the rest; cluster-specific target): SMoE vs AC-SMoE and XMoE vs AC-XMoE, routing–cluster NMI, task loss vs steps and noise; AC weights against the true subsets.");
        var defaults = new AcProbeOptions();
        var tree = new OptionTree<AcProbeOptions>(OptionFlags.ProbeAc, defaults);
        tree.AddTo(command);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            RunAc(tree.Read(result, defaults), result.GetValue(json), cancellationToken, DeviceFlag.Read(result, deviceFlag));
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the AC probe, writes its files and prints its table and findings (with <paramref name="json"/>: the JSON instead).</summary>
    public static AcProbeResult RunAc(AcProbeOptions options, bool json, CancellationToken cancellationToken, TorchSharp.torch.Device? device = null)
    {
        options.Validate();
        var result = AcProbe.Run(options, json ? null : Console.Error.WriteLine, cancellationToken, device);
        ProbeAcReport.Write(result, options.OutDir);
        if (json)
        {
            Output.Json(new { result, findings = ProbeAcReport.Findings(result).Select(f => f.Line).ToArray() });
            return result;
        }
        Output.Table(string.Create(CultureInfo.InvariantCulture, $"probe ac ({options.Seeds} seeds, {result.Seconds:F0} s)"),
            ["noise", "router", "MSE base", "MSE AC", "NMI base", "NMI AC", "AC weight AUROC"],
            result.Cells.Select(c => (IReadOnlyList<string>)
            [
                c.Noise.ToString(CultureInfo.InvariantCulture), c.BaseRouter, c.BaseMse.Format(4), c.AcMse.Format(4), c.BaseNmi.Format(3), c.AcNmi.Format(3), c.WeightAuroc?.Format(3) ?? "–",
            ]));
        foreach (var finding in ProbeAcReport.Findings(result)) Output.Line(finding.Line);
        Output.Line($"report: {Path.Combine(options.OutDir, "report.md")}");
        return result;
    }

    private static Command BuildFare()
    {
        var command = new Command("fare", "A sensitive attribute that the negatives leak (z in the input, independent of the class): bias removal (group-probe accuracy) and task accuracy per contrastive method; FARE's attention against the ideal (uniform over same-group negatives).");
        var defaults = new FareProbeOptions();
        var tree = new OptionTree<FareProbeOptions>(OptionFlags.ProbeFare, defaults);
        tree.AddTo(command);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            RunFare(tree.Read(result, defaults), result.GetValue(json), cancellationToken, DeviceFlag.Read(result, deviceFlag));
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the FARE probe, writes its files and prints its table and findings (with <paramref name="json"/>: the JSON instead).</summary>
    public static FareProbeResult RunFare(FareProbeOptions options, bool json, CancellationToken cancellationToken, TorchSharp.torch.Device? device = null)
    {
        options.Validate();
        var result = FareProbe.Run(options, json ? null : Console.Error.WriteLine, cancellationToken, device);
        ProbeFareReport.Write(result, options.OutDir);
        if (json)
        {
            Output.Json(new { result, findings = ProbeFareReport.Findings(result).Select(f => f.Line).ToArray() });
            return result;
        }
        Output.Table(string.Create(CultureInfo.InvariantCulture, $"probe fare ({options.Seeds} seeds, {result.Seconds:F0} s)"),
            ["method", "target accuracy %", "group-probe accuracy %", "bias removed vs infonce"],
            result.Methods.Select(m => (IReadOnlyList<string>)
            [
                StatFormer.Options.EnumNames.Cli(m.Method), m.TargetAccuracy.Format(1), m.GroupAccuracy.Format(1), m.BiasRemoved?.Format(1) ?? "–",
            ]));
        foreach (var finding in ProbeFareReport.Findings(result)) Output.Line(finding.Line);
        Output.Line($"report: {Path.Combine(options.OutDir, "report.md")}");
        return result;
    }
}
