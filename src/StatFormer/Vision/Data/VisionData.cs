using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Data;

/// <summary>The one entry point for a vision run's images: loads the source, then applies the subset limits.</summary>
public static class VisionData
{
    /// <summary>
    /// The training and test sets <paramref name="options"/> describe. Synthetic: <see cref="SyntheticImages"/>; MNIST:
    /// <see cref="MnistLoader"/>; image folder: <see cref="ImageFolderLoader"/> (decoded once, then cached). MaxTrain and
    /// MaxTest then keep seeded class-stratified subsets (streams "vision-max-train" and "vision-max-test" of SplitSeed).
    /// </summary>
    public static ImageSplits Load(VisionDataOptions options, IProgress<ImageLoadProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var splits = options.Source switch
        {
            VisionDataSource.Synthetic => SyntheticImages.Generate(options.Synthetic).Splits,
            VisionDataSource.Mnist => MnistLoader.Load(options.Path!, progress),
            VisionDataSource.ImageFolder => ImageFolderLoader.Load(options.Path!, options, progress, ct),
            _ => throw new ArgumentException($"unknown source {options.Source}", nameof(options.Source)),
        };
        try
        {
            var train = Limit(splits.Train, options.MaxTrain, options.SplitSeed, "vision-max-train", nameof(options.MaxTrain));
            var test = Limit(splits.Test, options.MaxTest, options.SplitSeed, "vision-max-test", nameof(options.MaxTest));
            return ReferenceEquals(train, splits.Train) && ReferenceEquals(test, splits.Test) ? splits : new ImageSplits(train, test);
        }
        catch
        {
            splits.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Per-channel mean and standard deviation of <paramref name="train"/>'s pixels in [0, 1], the normalisation a model
    /// should apply inside itself (MNIST gives the familiar 0.1307 / 0.3081).
    /// </summary>
    public static ChannelNormalization DefaultNormalization(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("cannot measure channel statistics of an empty dataset", nameof(train));
        var sum = new double[train.Channels];
        var sumSquares = new double[train.Channels];
        const long chunk = 4096;
        for (long start = 0; start < train.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            // Float64 sums per chunk keep the 150-million-pixel CIFAR-10 totals exact enough and memory small.
            var x = train.Pixels.narrow(0, start, Math.Min(chunk, train.Count - start)).to_type(ScalarType.Float64).div_(255.0);
            var s = x.sum(new long[] { 0, 2, 3 }).data<double>().ToArray();
            var s2 = x.square().sum(new long[] { 0, 2, 3 }).data<double>().ToArray();
            for (var c = 0; c < train.Channels; c++)
            {
                sum[c] += s[c];
                sumSquares[c] += s2[c];
            }
        }
        var n = (double)train.Count * train.Height * train.Width;
        var mean = sum.Select(s => s / n).ToArray();
        var std = sumSquares.Select((s2, c) => Math.Sqrt(Math.Max(s2 / n - mean[c] * mean[c], 0))).ToArray();
        // A constant channel would divide by zero inside the model; leave it unscaled instead.
        return new ChannelNormalization(mean, std.Select(s => s > 1e-12 ? s : 1.0).ToArray());
    }

    private static ImageDataset Limit(ImageDataset data, int? max, int seed, string stream, string option)
    {
        if (max is null || max >= data.Count) return data;
        var labels = data.Labels.data<long>().ToArray();
        long[] keep;
        try
        {
            keep = StratifiedSampling.Subset(labels, data.Classes, max.Value, seed, stream);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(Options.OptionCheck.ReasonOf(e), option, e);
        }
        using var indices = torch.tensor(keep);
        var subset = data.Subset(indices);
        data.Dispose();
        return subset;
    }
}
