using System.CommandLine;
using System.Globalization;
using StatFormer.Analysis;
using StatFormer.Fairness.Experiments;
using StatFormer.Options;
using StatFormer.Reporting;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer fair train`: one fair contrastive run, trained, probed, written to --out.</summary>
public static class FairTrainCommand
{
    public static Command Build()
    {
        var command = new Command("train",
            "Train one encoder with a (fair) contrastive loss, then probe its frozen representation for the target and for z. " +
            "Writes summary.json, metrics.jsonl, checkpoint.bin, a loss curve and a PCA of the test representations to --out.");
        var baseline = new FairRunOptions();
        var tree = new OptionTree<FairRunOptions>(OptionFlags.Fair, baseline);
        tree.AddTo(command);
        var jsonFlag = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var options = tree.Read(result, baseline);
            var device = DeviceFlag.Read(result, deviceFlag);
            var json = result.GetValue(jsonFlag);
            var view = new TrainingProgressView("samples/s");
            var summary = view.Run(progressFor => FairExperiment.Run(options, progressFor($"{EnumNames.Cli(options.Model.Method)} seed {options.Train.Seed}"),
                cancellationToken: cancellationToken, device: device));
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var header = new List<string> { "method", "data", "z", "epochs", "target acc %" };
            var row = new List<string>
            {
                summary.Method, summary.Data, summary.Sensitive, summary.Epochs.ToString(CultureInfo.InvariantCulture), F(summary.TargetAccuracy),
            };
            void Add(string name, double? value, int decimals = 2)
            {
                if (value is null) return;
                header.Add(name);
                row.Add(F(value.Value, decimals));
            }
            Add("z MSE ↑", summary.ZMse);
            Add("MSE of mean z", summary.ZMseOfMean);
            Add("z probe acc % ↓", summary.ZProbeAccuracy);
            Add("z majority %", summary.ZMajorityRate);
            Add("EO ↓", summary.EqualizedOdds);
            Add("EO max ↓", summary.EqualizedOddsMax);
            Add("DP ↓", summary.DemographicParity);
            Add("attention distance ratio", summary.Attention?.DistanceRatio, 3);
            Add("final loss", summary.FinalTrainLoss, 3);
            header.Add("samples/s");
            row.Add(summary.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture));
            Output.Table($"fair train: {summary.Method} on {summary.Data}", header, new[] { row });
            Output.Line($"probes: {ProbeLine("target", summary.TargetProbeFit)}; {ProbeLine("z", summary.ZProbeFit)}");
            if (FairComparisonReport.ProbeWarning(summary) is { } warning) Output.Line(warning);
            Output.Line($"run folder: {Path.GetFullPath(options.Output.OutDir)}");
            return 0;
        }));
        return command;
    }

    private static string ProbeLine(string name, ProbeFit? fit) => fit is null
        ? $"{name} -"
        : string.Create(CultureInfo.InvariantCulture,
            $"{name} {(fit.Solver == ProbeSolver.Lbfgs ? $"L-BFGS {fit.Iterations} iterations" : "exact solve")}, ‖∇f‖/‖∇f(0)‖ {fit.RelativeGradientNorm:0.##e+0}{(fit.Converged ? "" : " NOT CONVERGED")}");

    internal static string F(double value, int decimals = 2) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
