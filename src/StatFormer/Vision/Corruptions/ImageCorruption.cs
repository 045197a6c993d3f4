using StatFormer.Options;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// A benchmark's list of corruptions: Hendrycks &amp; Dietterich's CIFAR-10-C (15 + 4 extras, 5 severities, colour
/// images) or Mu &amp; Gilmer's MNIST-C (15, one severity each, grey digits).
/// </summary>
public enum CorruptionSet
{
    Cifar10C,
    MnistC,
}

/// <summary>The corruptions of both sets (the names are the benchmarks'); which set a name means decides its parameters.</summary>
public enum CorruptionKind
{
    GaussianNoise,
    ShotNoise,
    ImpulseNoise,
    DefocusBlur,
    GlassBlur,
    MotionBlur,
    ZoomBlur,
    Snow,
    Frost,
    Fog,
    Brightness,
    Contrast,
    Elastic,
    Pixelate,
    Jpeg,
    SpeckleNoise,
    GaussianBlur,
    Spatter,
    Saturate,
    Shear,
    Scale,
    Rotate,
    Translate,
    Stripe,
    DottedLine,
    Zigzag,
    CannyEdges,
}

/// <summary>The members of each set, the ones left out and why, and the set a dataset's images call for.</summary>
public static class CorruptionSets
{
    /// <summary>CIFAR-10-C in the benchmark's order: the 15, then the 4 extras.</summary>
    public static IReadOnlyList<CorruptionKind> Cifar10C { get; } =
    [
        CorruptionKind.GaussianNoise, CorruptionKind.ShotNoise, CorruptionKind.ImpulseNoise, CorruptionKind.DefocusBlur, CorruptionKind.GlassBlur,
        CorruptionKind.MotionBlur, CorruptionKind.ZoomBlur, CorruptionKind.Snow, CorruptionKind.Frost, CorruptionKind.Fog, CorruptionKind.Brightness,
        CorruptionKind.Contrast, CorruptionKind.Elastic, CorruptionKind.Pixelate, CorruptionKind.Jpeg,
        CorruptionKind.SpeckleNoise, CorruptionKind.GaussianBlur, CorruptionKind.Spatter, CorruptionKind.Saturate,
    ];

    /// <summary>The first 15 of <see cref="Cifar10C"/>: the benchmark proper, over which its mCE is defined.</summary>
    public static IReadOnlyList<CorruptionKind> Cifar10CExtras { get; } = Cifar10C.Skip(15).ToArray();

    /// <summary>MNIST-C in the benchmark's order.</summary>
    public static IReadOnlyList<CorruptionKind> MnistC { get; } =
    [
        CorruptionKind.ShotNoise, CorruptionKind.ImpulseNoise, CorruptionKind.GlassBlur, CorruptionKind.MotionBlur, CorruptionKind.Shear,
        CorruptionKind.Scale, CorruptionKind.Rotate, CorruptionKind.Brightness, CorruptionKind.Translate, CorruptionKind.Stripe, CorruptionKind.Fog,
        CorruptionKind.Spatter, CorruptionKind.DottedLine, CorruptionKind.Zigzag, CorruptionKind.CannyEdges,
    ];

    /// <summary>The set's members in order, including the ones left out.</summary>
    public static IReadOnlyList<CorruptionKind> Members(CorruptionSet set) => set == CorruptionSet.Cifar10C ? Cifar10C : MnistC;

    /// <summary>Severities of the set: CIFAR-10-C 1 … 5; MNIST-C has one level per corruption (called 1 here).</summary>
    public static int Severities(CorruptionSet set) => set == CorruptionSet.Cifar10C ? 5 : 1;

    /// <summary>The members that are not built, with the reason; null for a built one.</summary>
    public static string? LeftOut(CorruptionSet set, CorruptionKind kind) => (set, kind) switch
    {
        (CorruptionSet.Cifar10C, CorruptionKind.Frost) =>
            "needs the benchmark's six frost photographs (blended into each image); we do not have them and do not fake them",
        _ when Members(set).Contains(kind) => null,
        _ => $"not a member of {EnumNames.Cli(set)}",
    };

    /// <summary>The built members of the set, in order.</summary>
    public static IReadOnlyList<CorruptionKind> Built(CorruptionSet set) => Members(set).Where(k => LeftOut(set, k) is null).ToArray();

    /// <summary>The set for images of this shape: MNIST-C for one channel, CIFAR-10-C for three.</summary>
    /// <exception cref="ArgumentException">Another channel count.</exception>
    public static CorruptionSet For(int channels) => channels switch
    {
        1 => CorruptionSet.MnistC,
        3 => CorruptionSet.Cifar10C,
        _ => throw new ArgumentException($"corruptions are defined for 1-channel (MNIST-C) or 3-channel (CIFAR-10-C) images, not {channels} channels", nameof(channels)),
    };
}
