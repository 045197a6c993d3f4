using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Data;

/// <summary>
/// A fair-representation-learning dataset in the shape the contrastive trainer consumes: inputs, class targets and a
/// protected attribute z per sample, in a train and a test split.
/// <para>
/// The constructor standardises z of both splits with the train split's per-column mean and population std
/// (<see cref="FairSplit.SensitiveStandardized"/>; constant columns keep std 1). The dataset owns both splits and
/// their tensors; dispose it to free them.
/// </para>
/// </summary>
public sealed class FairDataset : IDisposable
{
    public FairDataset(
        string name, FairInputKind kind, FairSplit train, FairSplit test, int numClasses, bool sensitiveIsContinuous,
        IReadOnlyList<string> groupNames, IReadOnlyList<string> sensitiveNames, IReadOnlyList<string> featureNames,
        string description)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(groupNames);
        ArgumentNullException.ThrowIfNull(sensitiveNames);
        ArgumentNullException.ThrowIfNull(featureNames);
        if (ReferenceEquals(train, test))
            throw new ArgumentException("train and test must be different splits", nameof(test));
        if (train.Kind != kind || test.Kind != kind)
            throw new ArgumentException($"both splits must be {kind}, got train {train.Kind} and test {test.Kind}", nameof(kind));
        if (train.SensitiveDim != test.SensitiveDim || train.SensitiveDim != sensitiveNames.Count)
            throw new ArgumentException(
                $"z has {train.SensitiveDim} columns in train, {test.SensitiveDim} in test and {sensitiveNames.Count} names; they must agree",
                nameof(sensitiveNames));
        if (train.InputDim != test.InputDim)
            throw new ArgumentException($"train has {train.InputDim} input features but test has {test.InputDim}", nameof(test));
        if (kind == FairInputKind.Tabular && featureNames.Count != train.InputDim)
            throw new ArgumentException($"{featureNames.Count} feature names for {train.InputDim} features", nameof(featureNames));
        if (numClasses < 2)
            throw new ArgumentException($"need at least 2 classes, got {numClasses}", nameof(numClasses));
        CheckRange(train.Targets, numClasses, "train targets");
        CheckRange(test.Targets, numClasses, "test targets");
        CheckRange(train.Groups, groupNames.Count, "train groups");
        CheckRange(test.Groups, groupNames.Count, "test groups");

        Name = name;
        Kind = kind;
        Train = train;
        Test = test;
        NumClasses = numClasses;
        SensitiveIsContinuous = sensitiveIsContinuous;
        GroupNames = groupNames;
        SensitiveNames = sensitiveNames;
        FeatureNames = featureNames;
        Description = description;

        using var scope = torch.NewDisposeScope();
        var sensitive = train.Sensitive.to_type(ScalarType.Float64);
        var mean = sensitive.mean([0L]);
        var std = sensitive.std([0L], unbiased: false);
        std = torch.where(std > 1e-12, std, torch.ones_like(std));
        SensitiveMean = mean.data<double>().ToArray();
        SensitiveStd = std.data<double>().ToArray();
        train.SetStandardization(mean.to_type(ScalarType.Float32), std.to_type(ScalarType.Float32));
        test.SetStandardization(mean.to_type(ScalarType.Float32), std.to_type(ScalarType.Float32));
    }

    /// <summary>Short identifier, e.g. "colormnist", "adult", "compas", "synthetic".</summary>
    public string Name { get; }

    public FairInputKind Kind { get; }
    public FairSplit Train { get; }
    public FairSplit Test { get; }

    /// <summary>Number of target classes; targets lie in [0, NumClasses).</summary>
    public int NumClasses { get; }

    /// <summary>Dimension dz of the protected attribute z.</summary>
    public int SensitiveDim => Train.SensitiveDim;

    /// <summary>True for continuous z (colour, synthetic); false for one-hot categorical z.</summary>
    public bool SensitiveIsContinuous { get; }

    /// <summary>Names of the group ids in <see cref="FairSplit.Groups"/>.</summary>
    public IReadOnlyList<string> GroupNames { get; }

    /// <summary>Names of the dz columns of z.</summary>
    public IReadOnlyList<string> SensitiveNames { get; }

    /// <summary>Names of the input features (tabular data); empty for images.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>One-paragraph human-readable description (source, sizes, how z and the inputs were built).</summary>
    public string Description { get; }

    /// <summary>Train-split mean of each column of z (what <see cref="FairSplit.SensitiveStandardized"/> subtracts).</summary>
    public IReadOnlyList<double> SensitiveMean { get; }

    /// <summary>Train-split population std of each column of z (1 for constant columns).</summary>
    public IReadOnlyList<double> SensitiveStd { get; }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }

    private static void CheckRange(Tensor values, int count, string what)
    {
        using var scope = torch.NewDisposeScope();
        var min = values.min().item<long>();
        var max = values.max().item<long>();
        if (min < 0 || max >= count)
            throw new ArgumentException($"{what} must lie in [0, {count}), got values in [{min}, {max}]");
    }
}
