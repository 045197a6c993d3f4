using StatFormer.Options;

namespace StatFormer.Vision.Data;

/// <summary>Where the images come from.</summary>
public enum VisionDataSource
{
    /// <summary>Generated in code (<see cref="SyntheticImages"/>): a few informative patches among nuisance ones.</summary>
    Synthetic,
    /// <summary>The MNIST IDX files (train-images-idx3-ubyte[.gz] and the three others) in one folder.</summary>
    Mnist,
    /// <summary>An image folder, <c>root/&lt;class&gt;/*.{png,jpg,jpeg,bmp}</c>, with or without train/ and test/ below the root.</summary>
    ImageFolder,
}

/// <summary>The images of a vision run: the source, the split, subset limits, batching and augmentation.</summary>
public sealed record VisionDataOptions
{
    /// <summary>The environment variable that, when set, names the decoded-image cache folder.</summary>
    public const string CacheEnvironmentVariable = "STATFORMER_CACHE";

    public VisionDataSource Source { get; init; } = VisionDataSource.Synthetic;

    /// <summary>The MNIST folder or the image-folder root; required for those sources, unused for Synthetic.</summary>
    public string? Path { get; init; }

    /// <summary>
    /// Where decoded image folders are cached; null: <c>$STATFORMER_CACHE</c> if set, else <c>~/.cache/statformer/images</c>.
    /// Must not lie inside the image folder (the dataset folder is never written to).
    /// </summary>
    public string? CacheDir { get; init; }

    /// <summary>Image folder without train/ and test/: the share of each class held out for testing (at least one image each side).</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Seeds the one-folder train/test split and the <see cref="MaxTrain"/>/<see cref="MaxTest"/> subsets.</summary>
    public int SplitSeed { get; init; }

    /// <summary>Keep a seeded, class-stratified subset of this many training images (null: all); at least one per class.</summary>
    public int? MaxTrain { get; init; }

    /// <summary>Keep a seeded, class-stratified subset of this many test images (null: all); at least one per class.</summary>
    public int? MaxTest { get; init; }

    /// <summary>Images per batch, in training and in evaluation.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>
    /// Image folder only: 1 (grey, ITU-R BT.601 luma) or 3 (RGB; alpha is dropped). Null: 1 when the first image in
    /// sorted order is greyscale, else 3.
    /// </summary>
    public int? Channels { get; init; }

    /// <summary>Training-time augmentation (off by default: MNIST digits must not be flipped).</summary>
    public ImageAugmentationOptions Augment { get; init; } = new();

    /// <summary>The generated image set, used when <see cref="Source"/> is Synthetic.</summary>
    public SyntheticImageOptions Synthetic { get; init; } = new();

    /// <summary>The cache folder this run uses (see <see cref="CacheDir"/>).</summary>
    public string ResolvedCacheDir()
    {
        if (!string.IsNullOrEmpty(CacheDir)) return System.IO.Path.GetFullPath(CacheDir);
        var fromEnvironment = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return System.IO.Path.GetFullPath(fromEnvironment);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return System.IO.Path.Combine(home, ".cache", "statformer", "images");
    }

    /// <exception cref="ArgumentException">ParamName is the offending property's path.</exception>
    public void Validate()
    {
        OptionCheck.Require(Enum.IsDefined(Source), nameof(Source), $"unknown source {(int)Source}");
        if (Source != VisionDataSource.Synthetic)
            OptionCheck.Require(!string.IsNullOrWhiteSpace(Path), nameof(Path), $"a {Source} source needs the folder to read");
        OptionCheck.Require(CacheDir is null || !string.IsNullOrWhiteSpace(CacheDir), nameof(CacheDir), "must not be empty (leave it unset for the default)");
        OptionCheck.Require(TestFraction > 0 && TestFraction < 1, nameof(TestFraction), $"must lie strictly between 0 and 1, got {TestFraction}");
        OptionCheck.Require(MaxTrain is null || MaxTrain >= 1, nameof(MaxTrain), $"must be at least 1 (or unset for all), got {MaxTrain}");
        OptionCheck.Require(MaxTest is null || MaxTest >= 1, nameof(MaxTest), $"must be at least 1 (or unset for all), got {MaxTest}");
        OptionCheck.Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1, got {BatchSize}");
        OptionCheck.Require(Channels is null or 1 or 3, nameof(Channels), $"must be 1 or 3 (or unset to follow the first image), got {Channels}");
        OptionCheck.Nested(nameof(Augment), Augment.Validate);
        if (Source == VisionDataSource.Synthetic) OptionCheck.Nested(nameof(Synthetic), Synthetic.Validate);
    }
}

/// <summary>
/// Standard training augmentation, applied per image with draws from a seeded generator (<see cref="VisionAugmentation"/>).
/// All off by default; the usual CIFAR-10 recipe is a 4-pixel crop padding with horizontal flips.
/// </summary>
public sealed record ImageAugmentationOptions
{
    /// <summary>Zero-pad each side by this many pixels, then crop back to the original size at a random offset (0 = off).</summary>
    public int RandomCropPadding { get; init; }

    /// <summary>Mirror each image left–right with probability 1/2.</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>RandAugment (TorchVision's): null = off.</summary>
    public RandAugmentOptions? RandAugment { get; init; }

    /// <summary>Whether any augmentation is on.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Enabled => RandomCropPadding > 0 || HorizontalFlip || RandAugment is not null;

    public void Validate()
    {
        OptionCheck.Require(RandomCropPadding >= 0, nameof(RandomCropPadding), $"must be 0 (off) or a positive number of pixels, got {RandomCropPadding}");
        if (RandAugment is not null) OptionCheck.Nested(nameof(RandAugment), RandAugment.Validate);
    }
}

/// <summary>RandAugment (Cubuk et al. 2020) as TorchVision implements it: <see cref="Ops"/> random operations per image at one magnitude.</summary>
public sealed record RandAugmentOptions
{
    /// <summary>Operations applied in sequence to each image.</summary>
    public int Ops { get; init; } = 2;

    /// <summary>Magnitude bin, 0 … <see cref="MagnitudeBins"/> − 1.</summary>
    public int Magnitude { get; init; } = 9;

    /// <summary>Number of magnitude bins the operations' ranges are divided into.</summary>
    public int MagnitudeBins { get; init; } = 31;

    public void Validate()
    {
        OptionCheck.Require(Ops >= 1, nameof(Ops), $"must be at least 1, got {Ops}");
        OptionCheck.Require(MagnitudeBins >= 2, nameof(MagnitudeBins), $"must be at least 2, got {MagnitudeBins}");
        OptionCheck.Require(Magnitude >= 0 && Magnitude < MagnitudeBins, nameof(Magnitude), $"must lie in 0 … {MagnitudeBins - 1}, got {Magnitude}");
    }
}

/// <summary>
/// The generated image set (<see cref="SyntheticImages"/>): each image is a grid of <see cref="PatchSize"/>-square patches
/// per channel around grey 0.5. <see cref="InformativeFeatures"/> patches carry the class (± <see cref="SignalStrength"/>,
/// the signs a per-class code); every other patch is a class-independent nuisance of standard deviation
/// <see cref="NuisanceStrength"/>; every pixel gets Gaussian noise of standard deviation <see cref="NoiseStd"/>.
/// </summary>
public sealed record SyntheticImageOptions
{
    public int Classes { get; init; } = 10;
    public int Channels { get; init; } = 3;
    /// <summary>Height and width in pixels, a multiple of <see cref="PatchSize"/>.</summary>
    public int Size { get; init; } = 32;
    public int PatchSize { get; init; } = 4;
    public int TrainCount { get; init; } = 5000;
    public int TestCount { get; init; } = 1000;
    /// <summary>Patches that carry the class; 2^InformativeFeatures must be at least <see cref="Classes"/> (distinct codes).</summary>
    public int InformativeFeatures { get; init; } = 8;
    /// <summary>Pixel offset of an informative patch from grey, with the sign of the class code.</summary>
    public double SignalStrength { get; init; } = 0.15;
    /// <summary>Standard deviation of a nuisance patch's per-image offset.</summary>
    public double NuisanceStrength { get; init; } = 0.2;
    /// <summary>Standard deviation of the per-pixel noise.</summary>
    public double NoiseStd { get; init; } = 0.1;
    /// <summary>Seeds the layout (which patches inform, the class codes) and both splits.</summary>
    public int Seed { get; init; }

    public void Validate()
    {
        OptionCheck.Require(Classes >= 2, nameof(Classes), $"must be at least 2, got {Classes}");
        OptionCheck.Require(Channels is 1 or 3, nameof(Channels), $"must be 1 or 3, got {Channels}");
        OptionCheck.Require(PatchSize >= 1, nameof(PatchSize), $"must be at least 1, got {PatchSize}");
        OptionCheck.Require(Size >= PatchSize && Size % PatchSize == 0, nameof(Size), $"must be a positive multiple of PatchSize ({PatchSize}), got {Size}");
        OptionCheck.Require(TrainCount >= Classes, nameof(TrainCount), $"must be at least Classes ({Classes}) so every class appears, got {TrainCount}");
        OptionCheck.Require(TestCount >= Classes, nameof(TestCount), $"must be at least Classes ({Classes}) so every class appears, got {TestCount}");
        var patches = Channels * (Size / PatchSize) * (Size / PatchSize);
        OptionCheck.Require(InformativeFeatures >= 1 && InformativeFeatures < patches, nameof(InformativeFeatures),
            $"must lie in 1 … {patches - 1} (the image has {patches} patches and at least one must be nuisance), got {InformativeFeatures}");
        OptionCheck.Require(InformativeFeatures >= 31 || (1L << InformativeFeatures) >= Classes, nameof(InformativeFeatures),
            $"{InformativeFeatures} sign patterns cannot give {Classes} classes distinct codes (need 2^features ≥ classes)");
        OptionCheck.Require(SignalStrength > 0 && SignalStrength <= 0.5, nameof(SignalStrength), $"must lie in (0, 0.5], got {SignalStrength}");
        OptionCheck.Require(NuisanceStrength >= 0 && double.IsFinite(NuisanceStrength), nameof(NuisanceStrength), $"must be finite and non-negative, got {NuisanceStrength}");
        OptionCheck.Require(NoiseStd >= 0 && double.IsFinite(NoiseStd), nameof(NoiseStd), $"must be finite and non-negative, got {NoiseStd}");
    }
}
