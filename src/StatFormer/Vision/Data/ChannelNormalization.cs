using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Data;

/// <summary>
/// Per-channel (x − mean) / std, applied inside an image model so that its input, and every attack, lives in pixel
/// space [0, 1]. The authors' attacks run on normalised inputs instead; an ε there is ε·std_c in pixels for channel c,
/// which <see cref="PixelEpsilon"/> converts.
/// </summary>
public sealed record ChannelNormalization(IReadOnlyList<double> Mean, IReadOnlyList<double> Std)
{
    /// <summary>CIFAR-10's training-set channel statistics, the usual choice for it.</summary>
    public static ChannelNormalization Cifar10 { get; } = new(new[] { 0.4914, 0.4822, 0.4465 }, new[] { 0.2470, 0.2435, 0.2616 });

    /// <summary>MNIST's training-set statistics.</summary>
    public static ChannelNormalization Mnist { get; } = new(new[] { 0.1307 }, new[] { 0.3081 });

    /// <summary>No normalisation for <paramref name="channels"/> channels.</summary>
    public static ChannelNormalization Identity(int channels) => new(Enumerable.Repeat(0.0, channels).ToArray(), Enumerable.Repeat(1.0, channels).ToArray());

    public int Channels => Mean.Count;

    /// <summary>images [B,C,H,W] in pixel space → normalised, on the images' device.</summary>
    public Tensor Apply(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != Channels)
            throw new ArgumentException($"expected images [B,{Channels},H,W], got [{string.Join(",", images.shape)}]", nameof(images));
        using var scope = torch.NewDisposeScope();
        var mean = ChannelTensor(Mean, images);
        var std = ChannelTensor(Std, images);
        return images.sub(mean).div_(std).MoveToOuterDisposeScope();
    }

    /// <summary>An ε given in normalised units as a per-channel pixel-space ε [1,C,1,1] on <paramref name="like"/>'s device.</summary>
    public Tensor PixelEpsilon(double normalisedEpsilon, Tensor like)
    {
        using var scope = torch.NewDisposeScope();
        return ChannelTensor(Std, like).mul_(normalisedEpsilon).MoveToOuterDisposeScope();
    }

    public void Validate()
    {
        Options.OptionCheck.Require(Mean.Count >= 1 && Mean.Count == Std.Count, nameof(Mean), $"Mean and Std need one entry per channel (got {Mean.Count} and {Std.Count})");
        Options.OptionCheck.Require(Std.All(s => s > 0 && double.IsFinite(s)), nameof(Std), "every Std must be positive");
    }

    private static Tensor ChannelTensor(IReadOnlyList<double> values, Tensor like) =>
        torch.tensor(values.Select(v => (float)v).ToArray(), dtype: like.dtype, device: like.device).reshape(1, values.Count, 1, 1);
}
