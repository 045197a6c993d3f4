using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Evaluation;

/// <summary>
/// Linear probes on frozen representations, the evaluation protocol of spec §4.4 (CCLK's <c>lbfgs.py</c>): a linear
/// map fitted full-batch with <c>torch.optim.LBFGS</c> on the whole (un-augmented) train set, loss + l2·‖W‖²
/// (bias not penalised). Features are standardised with the train mean and population std inside the probe (constant
/// features keep std 1), weights start at zero so the fit is deterministic, and the fit runs in float64.
/// <c>steps</c> is the number of L-BFGS iterations (one optimizer step with max_iter = steps, learning
/// rate 1, history 20; it may stop earlier when the gradient or the loss change falls below 1e-9 / 1e-12).
/// </summary>
public static class LinearProbe
{
    /// <summary>Multinomial logistic regression: cross-entropy + l2·‖W‖².</summary>
    /// <param name="trainFeatures">float [N,D].</param>
    /// <param name="trainLabels">int64 [N] in [0, classes).</param>
    public static LinearClassifierProbe FitClassifier(Tensor trainFeatures, Tensor trainLabels, int classes, int steps = 500, double l2 = 1e-6)
    {
        CheckFeatures(trainFeatures, nameof(trainFeatures));
        CheckLabels(trainLabels, trainFeatures.shape[0], nameof(trainLabels));
        if (classes < 2) throw new ArgumentException($"classes must be at least 2, got {classes}", nameof(classes));
        CheckSettings(steps, l2);
        using (var scope = torch.NewDisposeScope())
        {
            var (min, max) = (trainLabels.min().item<long>(), trainLabels.max().item<long>());
            if (min < 0 || max >= classes)
                throw new ArgumentException($"labels must lie in [0, {classes}), got values in [{min}, {max}]", nameof(trainLabels));
        }

        using var fitScope = torch.NewDisposeScope();
        var (x, mean, std) = Standardize(trainFeatures);
        var y = trainLabels.to(x.device);
        var weight = new Parameter(torch.zeros(classes, x.shape[1], dtype: ScalarType.Float64, device: x.device));
        var bias = new Parameter(torch.zeros(classes, dtype: ScalarType.Float64, device: x.device));
        Minimize([weight, bias], steps,
            () => nn.functional.cross_entropy(x.matmul(weight.t()) + bias, y) + l2 * weight.square().sum());
        return new LinearClassifierProbe(Keep(mean), Keep(std), Keep(weight.detach().clone()), Keep(bias.detach().clone()));
    }

    /// <summary>
    /// Least-squares regression: mean squared error + l2·‖W‖². Targets are standardised for the fit (train mean/std)
    /// and predictions mapped back, so <see cref="LinearRegressorProbe.MeanSquaredError"/> is on the raw target scale.
    /// </summary>
    /// <param name="trainFeatures">float [N,D].</param>
    /// <param name="trainTargets">float [N,k].</param>
    public static LinearRegressorProbe FitRegressor(Tensor trainFeatures, Tensor trainTargets, int steps = 500, double l2 = 1e-6)
    {
        CheckFeatures(trainFeatures, nameof(trainFeatures));
        if (trainTargets.dim() != 2 || trainTargets.shape[0] != trainFeatures.shape[0] || !trainTargets.is_floating_point())
            throw new ArgumentException(
                $"targets must be floating [{trainFeatures.shape[0]},k], got {trainTargets.dtype} [{string.Join(",", trainTargets.shape)}]",
                nameof(trainTargets));
        CheckSettings(steps, l2);

        using var fitScope = torch.NewDisposeScope();
        var (x, mean, std) = Standardize(trainFeatures);
        var (t, targetMean, targetStd) = Standardize(trainTargets.to(x.device));
        var weight = new Parameter(torch.zeros(t.shape[1], x.shape[1], dtype: ScalarType.Float64, device: x.device));
        var bias = new Parameter(torch.zeros(t.shape[1], dtype: ScalarType.Float64, device: x.device));
        Minimize([weight, bias], steps,
            () => (x.matmul(weight.t()) + bias - t).square().mean() + l2 * weight.square().sum());
        return new LinearRegressorProbe(Keep(mean), Keep(std), Keep(weight.detach().clone()), Keep(bias.detach().clone()),
            Keep(targetMean), Keep(targetStd));
    }

    /// <summary>Share of the most frequent label: the accuracy of always guessing it (the chance level for categorical z).</summary>
    /// <param name="labels">int64 [N], non-negative.</param>
    public static double MajorityRate(Tensor labels)
    {
        CheckLabels(labels, labels.shape.Length == 1 ? labels.shape[0] : -1, nameof(labels));
        using var scope = torch.NewDisposeScope();
        if (labels.min().item<long>() < 0) throw new ArgumentException("labels must be non-negative", nameof(labels));
        return torch.bincount(labels).max().item<long>() / (double)labels.shape[0];
    }

    /// <summary>float64 copy of <paramref name="values"/> standardised per column, with the mean and std used.</summary>
    internal static (Tensor Standardized, Tensor Mean, Tensor Std) Standardize(Tensor values)
    {
        var x = values.detach().to_type(ScalarType.Float64);
        var mean = x.mean([0L], keepdim: true);
        var std = x.std([0L], unbiased: false, keepdim: true);
        std = torch.where(std > 1e-12, std, torch.ones_like(std));
        return ((x - mean) / std, mean, std);
    }

    internal static void CheckFeatures(Tensor features, string name)
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (features.dim() != 2 || !features.is_floating_point() || features.shape[0] < 1)
            throw new ArgumentException($"features must be floating [N,D] with N ≥ 1, got {features.dtype} [{string.Join(",", features.shape)}]", name);
    }

    internal static void CheckLabels(Tensor labels, long count, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != count || count < 1)
            throw new ArgumentException($"labels must be int64 [{count}], got {labels.dtype} [{string.Join(",", labels.shape)}]", name);
    }

    private static void CheckSettings(int steps, double l2)
    {
        if (steps < 1) throw new ArgumentException($"steps must be at least 1, got {steps}", nameof(steps));
        if (!(l2 >= 0) || double.IsInfinity(l2)) throw new ArgumentException($"l2 must be a finite non-negative number, got {l2}", nameof(l2));
    }

    private static void Minimize(Parameter[] parameters, int steps, Func<Tensor> objective)
    {
        using var grad = torch.enable_grad();
        using var optimizer = torch.optim.LBFGS(parameters, lr: 1.0, max_iter: steps, tolerange_grad: 1e-9, tolerance_change: 1e-12,
            history_size: 20);
        optimizer.step(() =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = objective();
            loss.backward();
            return loss.MoveToOuterDisposeScope();
        });
        foreach (var p in parameters)
            if (!torch.isfinite(p).all().item<bool>())
                throw new InvalidOperationException("the L-BFGS probe fit diverged (non-finite weights)");
    }

    private static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();

    /// <summary>(standardise(features) · Wᵀ + b) in float64: the map both probes apply, with the feature count checked.</summary>
    internal static Tensor ApplyOnStandardized(Tensor features, Tensor mean, Tensor std, Tensor weight, Tensor bias)
    {
        CheckFeatures(features, nameof(features));
        if (features.shape[1] != weight.shape[1])
            throw new ArgumentException($"features have {features.shape[1]} columns, the probe was fitted on {weight.shape[1]}", nameof(features));
        using var scope = torch.NewDisposeScope();
        var x = (features.detach().to_type(ScalarType.Float64).to(mean.device) - mean) / std;
        return (x.matmul(weight.t()) + bias).MoveToOuterDisposeScope();
    }
}
