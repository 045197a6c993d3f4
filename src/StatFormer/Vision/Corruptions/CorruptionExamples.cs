using StatFormer.Options;
using StatFormer.Vision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// One test image (the first of the corruption subset) under every corruption and severity asked for, with a model's
/// predictions: the comparison's grid of corrupted examples. Owns its tensors.
/// </summary>
/// <param name="Clean">float [1,C,H,W].</param>
/// <param name="Images">Per severity (column) the corrupted images [corruptions,C,H,W], one row per corruption.</param>
/// <param name="Predictions">Per severity the model's prediction for each corruption.</param>
public sealed record CorruptionExamples(string Model, Tensor Clean, long Label, long CleanPrediction, IReadOnlyList<string> Corruptions,
    IReadOnlyList<int> Severities, IReadOnlyList<Tensor> Images, IReadOnlyList<IReadOnlyList<long>> Predictions) : IDisposable
{
    /// <summary>Each (corruption, severity) applied to the image alone with that corruption's generator.</summary>
    public static CorruptionExamples Of(nn.Module<Tensor, Tensor> model, ImageDataset test, CorruptionOptions options, string modelName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var set = CorruptionSets.For(test.Channels);
        var kinds = options.Resolve(set);
        var severities = options.ResolveSeverities(set);
        var first = CorruptionEvaluation.Subset(test, options)[0];
        using var index = torch.tensor(new[] { first });
        var (clean, label) = test.Batch(index);
        using var _ = label;
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var cleanLogits = model.forward(clean);
            var cleanPrediction = cleanLogits.argmax(1).item<long>();
            var images = new List<Tensor>();
            var predictions = new List<IReadOnlyList<long>>();
            foreach (var severity in severities)
            {
                using var scope = torch.NewDisposeScope();
                var rows = kinds.Select(kind =>
                {
                    using var generator = ImageCorruptions.GeneratorFor(options.Seed, set, kind, severity);
                    return ImageCorruptions.Apply(set, kind, severity, clean, generator);
                }).ToList();
                var column = torch.cat(rows, 0);
                predictions.Add(model.forward(column).argmax(1).data<long>().ToArray());
                images.Add(column.MoveToOuterDisposeScope());
            }
            return new CorruptionExamples(modelName, clean, label.item<long>(), cleanPrediction, kinds.Select(k => EnumNames.Cli(k)).ToList(), severities, images, predictions);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    public void Dispose()
    {
        Clean.Dispose();
        foreach (var image in Images) image.Dispose();
    }
}
