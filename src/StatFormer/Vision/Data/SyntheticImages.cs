using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Data;

/// <summary>One square patch of one channel: pixels [Top, Top+Size) × [Left, Left+Size) of <see cref="Channel"/>.</summary>
public sealed record ImagePatch(int Channel, int Top, int Left, int Size);

/// <summary>
/// A generated image set and its ground truth: which patches carry the class (<see cref="Informative"/>, in feature
/// order) and with which sign per class (<see cref="ClassCodes"/>[class][feature] = ±1); all other patches are
/// <see cref="Nuisance"/>, independent of the label.
/// </summary>
public sealed class SyntheticImageSet(ImageSplits splits, IReadOnlyList<ImagePatch> informative, IReadOnlyList<ImagePatch> nuisance,
    IReadOnlyList<IReadOnlyList<int>> classCodes) : IDisposable
{
    public ImageSplits Splits { get; } = splits;
    public IReadOnlyList<ImagePatch> Informative { get; } = informative;
    public IReadOnlyList<ImagePatch> Nuisance { get; } = nuisance;
    public IReadOnlyList<IReadOnlyList<int>> ClassCodes { get; } = classCodes;

    public void Dispose() => Splits.Dispose();
}

/// <summary>
/// Generates <see cref="SyntheticImageOptions"/>' image set: a demo and test set whose answer is known. Every image is
/// grey 0.5 plus, per patch, an offset: ± SignalStrength (the sign from the class's code) on the informative patches,
/// N(0, NuisanceStrength²) drawn per image on the others; then N(0, NoiseStd²) per pixel, clamped to [0, 1] and
/// quantised to 8 bits like a decoded image.
/// </summary>
public static class SyntheticImages
{
    public static SyntheticImageSet Generate(SyntheticImageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var grid = options.Size / options.PatchSize;
        var patchCount = options.Channels * grid * grid;

        // The layout has its own stream, so changing the split sizes keeps the same informative patches and codes.
        var layoutRandom = new Random(Seeds.ForName(options.Seed, "synthetic-images-layout"));
        var slots = Enumerable.Range(0, patchCount).ToArray();
        layoutRandom.Shuffle(slots);
        var informativeSlots = slots[..options.InformativeFeatures];
        var codes = DistinctCodes(options.Classes, options.InformativeFeatures, layoutRandom);

        ImagePatch PatchOf(int slot) =>
            new(slot / (grid * grid), slot / grid % grid * options.PatchSize, slot % grid * options.PatchSize, options.PatchSize);
        var informative = informativeSlots.Select(PatchOf).ToArray();
        var informativeSet = informativeSlots.ToHashSet();
        var nuisance = Enumerable.Range(0, patchCount).Where(s => !informativeSet.Contains(s)).Select(PatchOf).ToArray();

        var source = $"synthetic:seed={options.Seed}";
        var classNames = Enumerable.Range(0, options.Classes).Select(c => $"class{c}").ToArray();
        var train = GenerateSplit(options, informativeSlots, codes, options.TrainCount, Seeds.ForName(options.Seed, "synthetic-images-train"), classNames, source);
        try
        {
            var test = GenerateSplit(options, informativeSlots, codes, options.TestCount, Seeds.ForName(options.Seed, "synthetic-images-test"), classNames, source);
            return new SyntheticImageSet(new ImageSplits(train, test), informative, nuisance, codes);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>One ±1 code per class, all different, drawn uniformly with rejection of repeats.</summary>
    private static int[][] DistinctCodes(int classes, int features, Random random)
    {
        var codes = new List<int[]>();
        var seen = new HashSet<string>();
        while (codes.Count < classes)
        {
            var code = Enumerable.Range(0, features).Select(_ => random.Next(2) * 2 - 1).ToArray();
            if (seen.Add(string.Join(",", code))) codes.Add(code);
        }
        return codes.ToArray();
    }

    private static ImageDataset GenerateSplit(SyntheticImageOptions options, int[] informativeSlots, int[][] codes, int count, int seed,
        string[] classNames, string source)
    {
        using var scope = torch.NewDisposeScope();
        var grid = options.Size / options.PatchSize;
        var generator = new Generator((ulong)seed);
        // Balanced labels (each class ⌊n/K⌋ or ⌈n/K⌉ times) in a seeded order.
        var labels = torch.arange(count, dtype: ScalarType.Int64).remainder(options.Classes)
            .index_select(0, torch.randperm(count, generator: generator));

        var offsets = torch.randn(new long[] { count, options.Channels * grid * grid }, generator: generator).mul_(options.NuisanceStrength);
        var codeTensor = torch.tensor(codes.SelectMany(c => c).Select(v => (float)v).ToArray(), new long[] { codes.Length, codes[0].Length });
        var signal = codeTensor.index_select(0, labels).mul_(options.SignalStrength);
        offsets.index_copy_(1, torch.tensor(informativeSlots.Select(s => (long)s).ToArray()), signal);

        var pixels = offsets.reshape(count, options.Channels, grid, grid)
            .repeat_interleave(options.PatchSize, 2).repeat_interleave(options.PatchSize, 3)
            .add_(0.5)
            .add_(torch.randn(new long[] { count, options.Channels, options.Size, options.Size }, generator: generator).mul_(options.NoiseStd))
            .clamp_(0, 1).mul_(255).round_().to_type(ScalarType.Byte);
        generator.Dispose();
        return new ImageDataset(pixels.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), classNames, source);
    }
}
