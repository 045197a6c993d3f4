using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Data;

/// <summary>
/// One split (train or test) of a <see cref="FairDataset"/>: targets, the protected attribute z, its group id, and
/// the inputs, which are produced per batch by <see cref="Inputs(long[])"/>.
/// <para>
/// Ownership: the split owns its tensors. They are detached from any dispose scope that was active when the split was
/// built, live until <see cref="Dispose"/> (normally via <see cref="FairDataset.Dispose"/>), and must not be disposed
/// by callers. Tensors returned by <see cref="Inputs(long[])"/> are new and belong to the caller (or its dispose scope).
/// </para>
/// </summary>
public sealed class FairSplit : IDisposable
{
    // Image splits keep the grey-scale bytes [N,H,W] and colour the batch on demand, so 60k colour images cost
    // 47 MB instead of 560 MB of float32.
    private readonly Tensor? _pixels;
    private readonly Tensor? _features;
    private Tensor? _sensitiveStandardized;
    private bool _disposed;

    private FairSplit(FairInputKind kind, Tensor? pixels, Tensor? features, Tensor targets, Tensor sensitive, Tensor groups)
    {
        Kind = kind;
        _pixels = pixels?.DetachFromDisposeScope();
        _features = features?.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
        Sensitive = sensitive.DetachFromDisposeScope();
        Groups = groups.DetachFromDisposeScope();
        Count = (int)targets.shape[0];
        InputDim = kind == FairInputKind.Image
            ? (int)(3 * pixels!.shape[1] * pixels.shape[2])
            : (int)features!.shape[1];
    }

    /// <summary>
    /// An image split: grey-scale digits whose background is coloured per image (the ColorMNIST rule
    /// pixel = (255 − v)/255 · c/255). Takes ownership of all four tensors.
    /// </summary>
    /// <param name="pixels">uint8 [N,H,W] grey values v (255 = stroke).</param>
    /// <param name="targets">int64 [N] class labels.</param>
    /// <param name="colours">float32 [N,3] background RGB on the 0–255 scale; this is z.</param>
    /// <param name="groups">int64 [N] group (bin) id of each colour.</param>
    public static FairSplit FromColouredImages(Tensor pixels, Tensor targets, Tensor colours, Tensor groups)
    {
        if (pixels.dtype != ScalarType.Byte || pixels.dim() != 3)
            throw new ArgumentException($"pixels must be uint8 [N,H,W], got {pixels.dtype} {Shape(pixels)}", nameof(pixels));
        if (colours.dtype != ScalarType.Float32 || colours.dim() != 2 || colours.shape[1] != 3)
            throw new ArgumentException($"colours must be float32 [N,3], got {colours.dtype} {Shape(colours)}", nameof(colours));
        CheckCommon(pixels.shape[0], targets, colours, groups);
        return new FairSplit(FairInputKind.Image, pixels, null, targets, colours, groups);
    }

    /// <summary>A tabular split. Takes ownership of all four tensors.</summary>
    /// <param name="features">float32 [N,F] model inputs (already standardised / one-hot).</param>
    /// <param name="targets">int64 [N] class labels.</param>
    /// <param name="sensitive">float32 [N,dz] raw protected attribute (one-hot for categorical z).</param>
    /// <param name="groups">int64 [N] group id (combination of categories, or a bin of continuous z).</param>
    public static FairSplit FromTabular(Tensor features, Tensor targets, Tensor sensitive, Tensor groups)
    {
        if (features.dtype != ScalarType.Float32 || features.dim() != 2)
            throw new ArgumentException($"features must be float32 [N,F], got {features.dtype} {Shape(features)}", nameof(features));
        if (sensitive.dtype != ScalarType.Float32 || sensitive.dim() != 2)
            throw new ArgumentException($"sensitive must be float32 [N,dz], got {sensitive.dtype} {Shape(sensitive)}", nameof(sensitive));
        CheckCommon(features.shape[0], targets, sensitive, groups);
        return new FairSplit(FairInputKind.Tabular, null, features, targets, sensitive, groups);
    }

    public FairInputKind Kind { get; }

    /// <summary>Number of samples N.</summary>
    public int Count { get; }

    /// <summary>Features per sample: F for tabular splits, 3·H·W for image splits.</summary>
    public int InputDim { get; }

    /// <summary>int64 [N] class labels.</summary>
    public Tensor Targets { get; }

    /// <summary>float32 [N,dz] the raw protected attribute: RGB on 0–255 for colour, one-hot for categorical z.</summary>
    public Tensor Sensitive { get; }

    /// <summary>
    /// float32 [N,dz] <see cref="Sensitive"/> standardised with the TRAIN split's per-column mean and (population) std,
    /// the form the contrastive losses consume. Set when the split is placed in a <see cref="FairDataset"/>.
    /// </summary>
    public Tensor SensitiveStandardized =>
        _sensitiveStandardized ?? throw new InvalidOperationException(
            "SensitiveStandardized is set when the split is placed in a FairDataset (which standardises with the train statistics).");

    /// <summary>
    /// int64 [N] group id. Categorical z: the id of the category combination. Continuous colour: the palette index
    /// of the nearest tab10 colour — the binning that Fair-InfoNCE's same-group negatives use (spec §7 Q12).
    /// </summary>
    public Tensor Groups { get; }

    /// <summary>Dimension dz of the protected attribute.</summary>
    public int SensitiveDim => (int)Sensitive.shape[1];

    /// <summary>
    /// The inputs of the samples at <paramref name="indices"/>: float32 [b,3,H,W] in [0,1] for images (coloured on the
    /// fly), float32 [b,F] for tabular data.
    /// </summary>
    public Tensor Inputs(long[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var index = torch.tensor(indices, dtype: ScalarType.Int64);
        return Inputs(index);
    }

    /// <summary>As <see cref="Inputs(long[])"/>, with the indices as an int64 [b] tensor.</summary>
    public Tensor Inputs(Tensor indices)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (indices.dim() != 1 || indices.dtype != ScalarType.Int64)
            throw new ArgumentException($"indices must be int64 [b], got {indices.dtype} {Shape(indices)}", nameof(indices));
        if (indices.numel() > 0)
        {
            using var check = torch.NewDisposeScope();
            var min = indices.min().item<long>();
            var max = indices.max().item<long>();
            if (min < 0 || max >= Count)
                throw new ArgumentException($"indices must lie in [0, {Count}), got values in [{min}, {max}]", nameof(indices));
        }
        if (Kind == FairInputKind.Tabular) return _features!.index_select(0, indices);

        using var scope = torch.NewDisposeScope();
        var grey = _pixels!.index_select(0, indices).to_type(ScalarType.Float32);            // [b,H,W], 255 = stroke
        var background = ((255f - grey) / 255f).unsqueeze(1);                                 // [b,1,H,W], 1 = background
        var colour = (Sensitive.index_select(0, indices) / 255f).unsqueeze(-1).unsqueeze(-1); // [b,3,1,1]
        return (background * colour).MoveToOuterDisposeScope();
    }

    /// <summary>Called once by <see cref="FairDataset"/>: standardise z with the train split's statistics.</summary>
    internal void SetStandardization(Tensor mean, Tensor std)
    {
        if (_sensitiveStandardized is not null)
            throw new InvalidOperationException("This split already belongs to a FairDataset.");
        using var scope = torch.NewDisposeScope();
        _sensitiveStandardized = ((Sensitive - mean) / std).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pixels?.Dispose();
        _features?.Dispose();
        Targets.Dispose();
        Sensitive.Dispose();
        Groups.Dispose();
        _sensitiveStandardized?.Dispose();
    }

    private static void CheckCommon(long n, Tensor targets, Tensor sensitive, Tensor groups)
    {
        if (targets.dtype != ScalarType.Int64 || targets.dim() != 1 || targets.shape[0] != n)
            throw new ArgumentException($"targets must be int64 [{n}], got {targets.dtype} {Shape(targets)}", nameof(targets));
        if (groups.dtype != ScalarType.Int64 || groups.dim() != 1 || groups.shape[0] != n)
            throw new ArgumentException($"groups must be int64 [{n}], got {groups.dtype} {Shape(groups)}", nameof(groups));
        if (sensitive.shape[0] != n)
            throw new ArgumentException($"the protected attribute must have {n} rows, got {Shape(sensitive)}", nameof(sensitive));
        if (n < 1)
            throw new ArgumentException("a split needs at least one sample");
    }

    private static string Shape(Tensor t) => "[" + string.Join(",", t.shape) + "]";
}
