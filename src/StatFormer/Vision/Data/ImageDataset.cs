using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Data;

/// <summary>
/// A labelled image set held once in memory as 8-bit pixels (CIFAR-10's 50,000 training images take 150 MB this way,
/// four times less than as floats); batches come out as float in [0, 1], the space every attack works in.
/// Owns its tensors.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    /// <param name="pixels">uint8 [N,C,H,W].</param>
    /// <param name="labels">int64 [N], each in [0, classNames.Count).</param>
    /// <param name="classNames">Class index → name (the folder name for an image folder).</param>
    /// <param name="source">Where the images came from, for reports ("mnist:../shared/data/mnist", "synthetic:seed=1").</param>
    public ImageDataset(Tensor pixels, Tensor labels, IReadOnlyList<string> classNames, string source)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (pixels.dtype != ScalarType.Byte || pixels.dim() != 4)
            throw new ArgumentException($"pixels must be uint8 [N,C,H,W], got {pixels.dtype} [{string.Join(",", pixels.shape)}]", nameof(pixels));
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != pixels.shape[0])
            throw new ArgumentException($"labels must be int64 [{pixels.shape[0]}], got {labels.dtype} [{string.Join(",", labels.shape)}]", nameof(labels));
        if (classNames.Count < 1)
            throw new ArgumentException("at least one class is needed", nameof(classNames));
        if (labels.numel() > 0)
        {
            var (min, max) = (labels.min().item<long>(), labels.max().item<long>());
            if (min < 0 || max >= classNames.Count)
                throw new ArgumentException($"labels must lie in [0, {classNames.Count}), found {min}..{max}", nameof(labels));
        }
        Pixels = pixels;
        Labels = labels;
        ClassNames = classNames;
        Source = source;
    }

    /// <summary>uint8 [N,C,H,W].</summary>
    public Tensor Pixels { get; }
    /// <summary>int64 [N].</summary>
    public Tensor Labels { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public string Source { get; }

    public long Count => Pixels.shape[0];
    public int Channels => (int)Pixels.shape[1];
    public int Height => (int)Pixels.shape[2];
    public int Width => (int)Pixels.shape[3];
    public int Classes => ClassNames.Count;

    /// <summary>
    /// Images float [b,C,H,W] in [0, 1] and labels int64 [b] at <paramref name="indices"/> (int64 [b], any device), on
    /// <paramref name="device"/> (default: where the dataset is, the CPU). The 8-bit pixels travel, then become floats.
    /// </summary>
    public (Tensor Images, Tensor Labels) Batch(Tensor indices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var scope = torch.NewDisposeScope();
        var at = indices.to(Pixels.device);
        var target = device ?? Pixels.device;
        var images = Pixels.index_select(0, at).to(target).to_type(ScalarType.Float32).div_(255f);
        var labels = Labels.index_select(0, at).to(target);
        return (images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>The images [<paramref name="start"/>, <paramref name="end"/>) as <see cref="Batch(Tensor, Device?)"/> gives them.</summary>
    public (Tensor Images, Tensor Labels) Batch(long start, long end, Device? device = null)
    {
        using var indices = torch.arange(start, end, dtype: ScalarType.Int64, device: Pixels.device);
        return Batch(indices, device);
    }

    /// <summary>A new dataset of the images at <paramref name="indices"/> (copies; this one stays usable).</summary>
    public ImageDataset Subset(Tensor indices) =>
        new(Pixels.index_select(0, indices), Labels.index_select(0, indices), ClassNames, Source);

    public void Dispose()
    {
        Pixels.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A training and a test set with the same classes and image shape.</summary>
public sealed record ImageSplits(ImageDataset Train, ImageDataset Test) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
