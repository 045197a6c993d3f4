using System.CommandLine;
using StatFormer.Interop;

namespace StatFormer.Cli.Commands;

/// <summary>`statformer export`: a run's best weights as a safetensors or PyTorch state dict, with config.json beside it.</summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var command = new Command("export", "Write a trained run's best weights as a state dict that PyTorch (torch.load, load_state_dict) or safetensors reads, and config.json (the model tree and tokenizer) beside it.");
        var run = new Option<string>("--run") { Description = "The run folder (e.g. written by `lm train`).", Required = true };
        var format = new Option<string?>("--format") { Description = "safetensors or pytorch (torch.save's zip format); default: from the --out extension (.safetensors; .pt, .pth, .bin)." };
        format.AcceptOnlyFromAmong("safetensors", "pytorch");
        var output = new Option<string>("--out") { Description = "The weights file to write; config.json is written in the same folder.", Required = true };
        command.Options.Add(run);
        command.Options.Add(format);
        command.Options.Add(output);
        command.SetAction(result => CommandRunner.Guard(() =>
        {
            var outFile = result.GetValue(output)!;
            var chosen = result.GetValue(format) switch
            {
                "safetensors" => StateDictFormat.Safetensors,
                "pytorch" => StateDictFormat.Pytorch,
                _ => StateDictFile.FromExtension(outFile)
                    ?? throw new ArgumentException($"cannot tell the format from '{Path.GetFileName(outFile)}': pass --format safetensors or --format pytorch", "--format"),
            };
            var configPath = RunExport.Export(result.GetValue(run)!, outFile, chosen);
            Output.Line($"weights: {Path.GetFullPath(outFile)}");
            Output.Line($"config:  {Path.GetFullPath(configPath)}");
            return 0;
        }));
        return command;
    }
}
