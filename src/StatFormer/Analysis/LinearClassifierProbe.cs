using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Analysis;

/// <summary>A fitted linear classifier (see <see cref="LinearProbe.FitClassifier"/>). Owns its tensors; dispose it.</summary>
public sealed class LinearClassifierProbe : IDisposable
{
    private readonly Tensor _mean;
    private readonly Tensor _std;

    internal LinearClassifierProbe(Tensor mean, Tensor std, Tensor weight, Tensor bias, ProbeFit fit)
    {
        _mean = mean;
        _std = std;
        Weight = weight;
        Bias = bias;
        Fit = fit;
    }

    /// <summary>float64 [classes,D], acting on standardised features.</summary>
    public Tensor Weight { get; }

    /// <summary>float64 [classes].</summary>
    public Tensor Bias { get; }

    /// <summary>How the fit ended: iterations, final gradient norm, last loss change, whether it converged.</summary>
    public ProbeFit Fit { get; }

    /// <summary>float64 [N,classes] logits.</summary>
    public Tensor Logits(Tensor features)
    {
        return LinearProbe.ApplyOnStandardized(features, _mean, _std, Weight, Bias);
    }

    /// <summary>int64 [N] predicted class.</summary>
    public Tensor Predict(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        return Logits(features).argmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>Fraction (0–1) of <paramref name="labels"/> predicted correctly.</summary>
    public double Accuracy(Tensor features, Tensor labels)
    {
        LinearProbe.CheckLabels(labels, features.shape[0], nameof(labels));
        using var scope = torch.NewDisposeScope();
        return Predict(features).eq(labels.to(_mean.device)).to_type(ScalarType.Float64).mean().item<double>();
    }

    public void Dispose()
    {
        _mean.Dispose();
        _std.Dispose();
        Weight.Dispose();
        Bias.Dispose();
    }
}
