using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Analysis;

/// <summary>A fitted linear regressor (see <see cref="LinearProbe.FitRegressor"/>). Owns its tensors; dispose it.</summary>
public sealed class LinearRegressorProbe : IDisposable
{
    private readonly Tensor _mean;
    private readonly Tensor _std;
    private readonly Tensor _targetMean;
    private readonly Tensor _targetStd;

    internal LinearRegressorProbe(Tensor mean, Tensor std, Tensor weight, Tensor bias, Tensor targetMean, Tensor targetStd, ProbeFit fit)
    {
        _mean = mean;
        _std = std;
        Weight = weight;
        Bias = bias;
        Fit = fit;
        _targetMean = targetMean;
        _targetStd = targetStd;
    }

    /// <summary>float64 [k,D], mapping standardised features to standardised targets.</summary>
    public Tensor Weight { get; }

    /// <summary>float64 [k].</summary>
    public Tensor Bias { get; }

    /// <summary>How the fit ended: iterations, final gradient norm, last loss change, whether it converged.</summary>
    public ProbeFit Fit { get; }

    /// <summary>float64 [N,k] predictions on the raw target scale.</summary>
    public Tensor Predict(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        return (LinearProbe.ApplyOnStandardized(features, _mean, _std, Weight, Bias) * _targetStd + _targetMean).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mean over samples and outputs of the squared error, on the raw target scale (spec §4.4's bias-removal number for
    /// ColorMNIST: higher means less of z is linearly recoverable).
    /// </summary>
    public double MeanSquaredError(Tensor features, Tensor targets)
    {
        using var scope = torch.NewDisposeScope();
        return (Predict(features) - CheckTargets(features, targets)).square().mean().item<double>();
    }

    /// <summary>Coefficient of determination, 1 − SSE/SST per output (SST around the given targets' own mean), averaged over outputs.</summary>
    public double RSquared(Tensor features, Tensor targets)
    {
        using var scope = torch.NewDisposeScope();
        var t = CheckTargets(features, targets);
        var sse = (Predict(features) - t).square().sum([0L]);
        var sst = (t - t.mean([0L], keepdim: true)).square().sum([0L]).clamp_min(1e-300);
        return (1 - sse / sst).mean().item<double>();
    }

    private Tensor CheckTargets(Tensor features, Tensor targets)
    {
        if (targets.dim() != 2 || targets.shape[0] != features.shape[0] || targets.shape[1] != Weight.shape[0])
            throw new ArgumentException(
                $"targets must be [{features.shape[0]},{Weight.shape[0]}], got [{string.Join(",", targets.shape)}]", nameof(targets));
        return targets.detach().to_type(ScalarType.Float64).to(_mean.device);
    }

    public void Dispose()
    {
        _mean.Dispose();
        _std.Dispose();
        Weight.Dispose();
        Bias.Dispose();
        _targetMean.Dispose();
        _targetStd.Dispose();
    }
}
