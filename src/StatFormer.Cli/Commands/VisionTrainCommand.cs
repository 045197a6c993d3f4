using System.CommandLine;
using System.Globalization;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Robustness;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer vision train`: one image classifier, trained, then evaluated clean and under the attacks, written to --out.</summary>
public static class VisionTrainCommand
{
    public static Command Build()
    {
        var command = new Command("train", "Train one image classifier (ViT with softmax or elliptical attention, or the ResNet-18 reference), then measure clean and robust accuracy. Writes summary.json, metrics.jsonl, checkpoint.bin and plots to --out.");
        var baseline = new VisionRunOptions();
        var tree = new OptionTree<VisionRunOptions>(OptionFlags.Vision, baseline);
        tree.AddTo(command);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var options = tree.Read(result, baseline);
            var device = DeviceFlag.Read(result, deviceFlag);
            var view = new TrainingProgressView("img/s");
            var summary = view.Run(progressFor => VisionExperiment.Run(options, progressFor($"{options.Model.VariantName} seed {options.Train.Seed}"), cancellationToken: cancellationToken, device: device));
            if (result.GetValue(json))
            {
                Output.Json(summary);
                return 0;
            }
            Output.Table($"vision train: {summary.Data} ({summary.TrainImages} train / {summary.TestImages} test images)",
                ["variant", "params", "steps", "clean acc", "images/s"],
                [[summary.Variant, summary.Params.ToString("N0", CultureInfo.InvariantCulture), summary.Steps.ToString(CultureInfo.InvariantCulture),
                    Percent(summary.CleanAccuracy), summary.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture)]]);
            PrintRobustness(summary.Robustness, $"robust accuracy on {summary.Robustness.Images} test images (estimator: {summary.EvalEstimator})");
            if (summary.Corruption is { } corruption) VisionCorruptionOutput.Print(corruption);
            Output.Line($"run folder: {Path.GetFullPath(options.Output.OutDir)}");
            return 0;
        }));
        return command;
    }

    /// <summary>One row per attack, one column per ε (×255), plus the worst case when it was computed.</summary>
    internal static void PrintRobustness(RobustnessResult robustness, string title)
    {
        var epsilons = robustness.Curves.Count > 0 ? robustness.Curves[0].Points.Select(p => p.Epsilon).ToList() : [];
        var header = new List<string> { "attack" };
        header.AddRange(epsilons.Select(e => $"ε={Epsilon(e)}"));
        var rows = new List<IReadOnlyList<string>> { (IReadOnlyList<string>)[$"clean {Percent(robustness.CleanAccuracy)}", .. epsilons.Select(_ => "")] };
        rows.AddRange(robustness.Curves.Select(c => (IReadOnlyList<string>)[c.Attack, .. c.Points.Select(p => Percent(p.RobustAccuracy))]));
        if (robustness.WorstCase is { } worst) rows.Add(["worst case", .. worst.Select(p => Percent(p.RobustAccuracy))]);
        Output.Table(title, header, rows);
    }

    internal static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + " %";

    /// <summary>ε as k/255 when it is one, else as a number.</summary>
    internal static string Epsilon(double epsilon)
    {
        var k = epsilon * 255;
        return Math.Abs(k - Math.Round(k)) < 1e-9 ? $"{Math.Round(k).ToString(CultureInfo.InvariantCulture)}/255" : epsilon.ToString("G4", CultureInfo.InvariantCulture);
    }
}
