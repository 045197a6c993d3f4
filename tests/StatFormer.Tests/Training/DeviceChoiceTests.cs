using StatFormer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Training;

public sealed class DeviceChoiceTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void CpuIsTheCpu(string name) => Assert.Equal(DeviceType.CPU, DeviceChoice.Resolve(name).type);

    [Fact]
    public void AutoFollowsWhatLibtorchSees()
    {
        var expected = torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expected, DeviceChoice.Resolve("auto").type);
    }

    [Theory]
    [InlineData("gpu", "is not a device")]
    [InlineData("cuda:x", "whole number")]
    [InlineData("cuda:-1", "whole number")]
    public void ABadNameIsAnErrorNamingTheFlag(string name, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceChoice.Resolve(name));
        Assert.Equal("--device", error.ParamName);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void CudaWithoutAGpuIsAnErrorThatSaysSo()
    {
        if (torch.cuda.is_available()) return;   // the CPU build is what CI runs; on a GPU build cuda resolves
        var error = Assert.Throws<ArgumentException>(() => DeviceChoice.Resolve("cuda:0"));
        Assert.Equal("--device", error.ParamName);
        Assert.Contains("no CUDA GPU", error.Message);
    }

    [Fact]
    public void AModuleLivesWhereItsParametersAre()
    {
        using var linear = nn.Linear(3, 2);
        Assert.Equal(DeviceType.CPU, DeviceChoice.DeviceOf(linear).type);
        using var empty = nn.Identity();
        Assert.Equal(DeviceType.CPU, DeviceChoice.DeviceOf(empty).type);
    }
}
