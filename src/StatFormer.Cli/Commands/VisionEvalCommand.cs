using System.CommandLine;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;
using TorchSharp;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer vision eval --run DIR`: clean and robust accuracy of a trained run under the given attacks.</summary>
public static class VisionEvalCommand
{
    public static Command Build()
    {
        var command = new Command("eval", "Evaluate a trained vision run (its final weights) on its test images: clean accuracy and robust accuracy under --attacks at each --eps.");
        var run = new Option<string>("--run") { Description = "The run folder written by `vision train` (holds checkpoint.bin).", Required = true };
        var reference = new Option<string?>("--reference-run")
        {
            Description = "With --corruptions: another `vision train` run on the same data (e.g. the softmax ViT), evaluated on the same corrupted images, as the CE reference (= 100).",
        };
        // The evaluation flags of the run tree; unless given, the run's own settings apply.
        var tree = new OptionTree<VisionRunOptions>(OptionFlags.Vision.Where(f => f.Path.StartsWith("Eval.", StringComparison.Ordinal) || f.Path == "Data.BatchSize"), new VisionRunOptions());
        command.Options.Add(run);
        command.Options.Add(reference);
        tree.AddTo(command, withConfig: false);
        var json = JsonFlag.Add(command);
        var deviceFlag = DeviceFlag.Add(command);
        command.SetAction(result => CommandRunner.Guard(cancellationToken =>
        {
            var folder = result.GetValue(run)!;
            var device = DeviceFlag.Read(result, deviceFlag);
            using var trained = TrainedVisionRun.Load(folder);
            trained.Model.to(device);
            var options = tree.Read(result, trained.Metadata.Options);
            options.Validate();
            using var data = VisionData.Load(options.Data, null, cancellationToken);
            var evaluation = VisionExperiment.Evaluate(trained.Model, trained.Metadata.Spec, data.Test, options, cancellationToken);
            var errors = VisionEvalReference.Errors(result.GetValue(reference), evaluation, data.Test, options, cancellationToken);
            if (result.GetValue(json))
            {
                Output.Json(evaluation with { CorruptionErrors = errors });
                return 0;
            }
            var estimator = options.Eval.Estimator is { } e ? Options.EnumNames.Cli(e) : "as trained";
            Output.Line($"vision eval: {folder} ({trained.Metadata.Spec.Model.VariantName}); clean accuracy {VisionTrainCommand.Percent(evaluation.Clean.Accuracy)} on {evaluation.Clean.Images} test images");
            VisionTrainCommand.PrintRobustness(evaluation.Robustness, $"robust accuracy on {evaluation.Robustness.Images} test images (estimator: {estimator})");
            if (evaluation.Corruption is { } corruption) VisionCorruptionOutput.Print(corruption, errors);
            return 0;
        }));
        return command;
    }
}
