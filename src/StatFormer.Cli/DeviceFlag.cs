using System.CommandLine;
using StatFormer.Training;
using static TorchSharp.torch;

namespace StatFormer.Cli;

/// <summary>The --device option of every command that trains or evaluates a model, resolved once into a torch device.</summary>
public static class DeviceFlag
{
    public const string Name = "--device";

    public static Option<string> Add(Command command)
    {
        var device = new Option<string>(Name)
        {
            Description = $"Where the model runs: {DeviceChoice.Spellings} (cuda when libtorch sees a GPU, else cpu). Models are initialised on the CPU, so a seed gives the same starting weights everywhere; CUDA needs the -p:TorchBackend=cuda build (README, Devices).",
            DefaultValueFactory = _ => "cpu",
        };
        command.Options.Add(device);
        return device;
    }

    /// <summary>The chosen device; an unknown name or a missing GPU is an <see cref="ArgumentException"/> naming --device.</summary>
    public static Device Read(ParseResult result, Option<string> option) => DeviceChoice.Resolve(result.GetValue(option)!, Name);
}
