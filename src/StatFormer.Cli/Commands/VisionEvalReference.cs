using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Data;
using StatFormer.Vision.Experiments;

namespace StatFormer.Cli.Commands;

/// <summary>`vision eval --reference-run`: the reference model's corruption result on the same images, and the CE against it.</summary>
internal static class VisionEvalReference
{
    /// <returns>Null without a reference run or without a corruption evaluation.</returns>
    /// <exception cref="ArgumentException">ParamName "--reference-run": given without --corruptions, or a run on other images.</exception>
    public static CorruptionErrorResult? Errors(string? folder, VisionEvaluationResult evaluation, ImageDataset test, VisionRunOptions options,
        CancellationToken cancellationToken)
    {
        if (folder is null) return null;
        if (evaluation.Corruption is not { } corruption) throw new ArgumentException("needs --corruptions (the CE compares corruption errors)", "--reference-run");
        using var reference = TrainedVisionRun.Load(folder);
        var spec = reference.Metadata.Spec;
        if (spec.Channels != test.Channels || spec.Height != test.Height || spec.Width != test.Width || spec.Classes != test.Classes)
            throw new ArgumentException($"{folder} is a model of other images ({spec.Channels}×{spec.Height}×{spec.Width}, {spec.Classes} classes)", "--reference-run");
        var referenceResult = CorruptionEvaluation.Evaluate(reference.Model, test, options.Eval.Corruption, options.Data.BatchSize, cancellationToken);
        return CorruptionErrors.Of(corruption, referenceResult, $"{spec.Model.VariantName} ({folder})");
    }
}
