using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Training;

/// <summary>
/// The compute device of a run, as a user names it (<c>--device cpu|cuda|cuda:N|auto</c>), and the device a
/// module's tensors live on. Models are built on the CPU (seeded initialisation draws on the CPU generator)
/// and moved once; everything a forward pass or an evaluation creates follows the model's parameters.
/// </summary>
public static class DeviceChoice
{
    /// <summary>The accepted spellings, for help texts.</summary>
    public const string Spellings = "cpu, cuda, cuda:N or auto";

    /// <summary>
    /// cpu; cuda (device 0) or cuda:N; auto (cuda when libtorch sees a GPU, else cpu). Throws an
    /// <see cref="ArgumentException"/> naming <paramref name="argument"/> for an unknown name or a GPU that is not there.
    /// </summary>
    public static Device Resolve(string value, string argument = "--device")
    {
        ArgumentNullException.ThrowIfNull(value);
        var name = value.Trim().ToLowerInvariant();
        if (name == "cpu") return CPU;
        if (name == "auto") return torch.cuda.is_available() ? CUDA : CPU;
        if (name != "cuda" && !name.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"'{value}' is not a device; use {Spellings}", argument);
        var index = 0;
        if (name.Length > "cuda".Length && (!int.TryParse(name.AsSpan("cuda:".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index)))
            throw new ArgumentException($"'{value}': the GPU index after 'cuda:' must be a whole number ≥ 0", argument);
        if (!torch.cuda.is_available())
            throw new ArgumentException($"'{value}' was asked for but libtorch sees no CUDA GPU (a CPU build of TorchSharp, or no GPU driver); build with -p:TorchBackend=cuda on a GPU machine (README, Devices) or use cpu", argument);
        var count = torch.cuda.device_count();
        if (index >= count) throw new ArgumentException($"'{value}': there {(count == 1 ? "is 1 GPU" : $"are {count} GPUs")} (cuda:0 … cuda:{count - 1})", argument);
        return torch.device(DeviceType.CUDA, index);
    }

    /// <summary>Where the module's parameters (or, for a parameterless module, its buffers) live; the CPU for an empty module.</summary>
    public static Device DeviceOf(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.parameters().Select(p => p.device).Concat(module.buffers().Select(b => b.device)).FirstOrDefault() ?? CPU;
    }
}
