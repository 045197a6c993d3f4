using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>The one shared --device flag on every command that trains, evaluates, generates, probes or benchmarks.</summary>
[Collection(CliCollection.Name)]
public sealed class DeviceCliTests
{
    public static TheoryData<string[]> Commands => new(
        ["lm", "train"], ["lm", "eval", "--run", "nowhere"], ["lm", "generate", "--run", "nowhere"], ["compare"], ["demo"],
        ["fair", "train"], ["fair", "compare"],
        ["vision", "train"], ["vision", "eval", "--run", "nowhere"], ["vision", "compare"],
        ["probe", "elliptical"], ["probe", "ac"], ["probe", "fare"],
        ["bench", "attention"], ["bench", "lm"], ["bench", "vision"], ["bench", "moe"], ["bench", "fair"], ["bench", "generate"]);

    [Theory]
    [MemberData(nameof(Commands))]
    public void EveryRunningCommandTakesTheDeviceFlagAndRefusesAnUnknownDeviceBeforeAnyWork(string[] command)
    {
        var help = Run([.. command.TakeWhile(a => a != "--run"), "--help"]);
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--device", help.Stdout);
        AssertOneLineError(Run([.. command, "--device", "gpu"]), "--device", "'gpu' is not a device");
    }
}
