using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Data;
using StatFormer.Vision.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Corruptions;

public sealed class CorruptionEvaluationTests
{
    /// <summary>A fixed linear classifier on flattened 3×32×32 images (seeded weights, no training).</summary>
    private sealed class Linear : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _layer;

        public Linear() : base(nameof(Linear))
        {
            torch.manual_seed(7);
            _layer = nn.Linear(3 * 32 * 32, 4);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => _layer.forward(input.flatten(1) - 0.5);
    }

    private static ImageDataset Data(int count)
    {
        using var images = ImageCorruptionTests.ColourImages(count);
        var pixels = images.mul(255).round().to_type(ScalarType.Byte);
        var labels = torch.arange(count, dtype: ScalarType.Int64).remainder(4);
        return new ImageDataset(pixels, labels, ["a", "b", "c", "d"], "test");
    }

    [Fact]
    public void ResultsAreTheDirectComputationWhateverTheBatchSize()
    {
        using var model = new Linear();
        using var test = Data(24);
        var options = new CorruptionOptions { Corruptions = "gaussian-noise,fog", Severities = "2,5", MaxImages = 12, Seed = 3 };
        var small = CorruptionEvaluation.Evaluate(model, test, options, batchSize: 5);
        var large = CorruptionEvaluation.Evaluate(model, test, options, batchSize: 64);
        Assert.Equal(JsonOutputOf(small), JsonOutputOf(large));
        Assert.Equal(12, small.Images);
        Assert.Equal(["gaussian-noise", "fog"], small.Corruptions.Select(c => c.Corruption));
        Assert.Equal([2, 5], small.Corruptions[0].Severities.Select(s => s.Severity));

        // By hand: the same stratified subset, fog at severity 5 from its own generator, then accuracy, ECE and AUROC.
        var indices = StratifiedSampling.Subset(test.Labels.data<long>().ToArray(), 4, 12, 3, "vision-corruption-images");
        var (images, labels) = test.Batch(torch.tensor(indices));
        using var generator = ImageCorruptions.GeneratorFor(3, CorruptionSet.Cifar10C, CorruptionKind.Fog, 5);
        using var fogged = ImageCorruptions.Apply(CorruptionSet.Cifar10C, CorruptionKind.Fog, 5, images, generator);
        model.eval();
        using var noGrad = torch.no_grad();
        var (cleanConfidence, cleanPrediction) = Softmax(model, images);
        var (confidence, prediction) = Softmax(model, fogged);
        var truth = labels.data<long>().ToArray();
        var correct = prediction.Select((p, i) => p == truth[i]).ToArray();
        var fog5 = small.Corruptions[1].Severities[1];
        Assert.Equal(correct.Count(c => c) / 12.0, fog5.Accuracy, 12);
        Assert.Equal(Calibration.ExpectedCalibrationError(confidence, correct), fog5.Ece, 9);
        Assert.Equal(cleanPrediction.Where((p, i) => p == truth[i]).Count() / 12.0, small.CleanAccuracy, 12);
        var ood = small.Ood.Single(o => o.Shifted == "fog-5");
        Assert.Equal(Calibration.Auroc(cleanConfidence, confidence), ood.Auroc, 9);
        Assert.Equal("all-5", small.Ood[0].Shifted);
        Assert.Equal(24, small.Ood[0].OutImages);
        Assert.Contains(small.LeftOut, l => l.Corruption == "frost");
    }

    private static (double[] Confidence, long[] Prediction) Softmax(nn.Module<Tensor, Tensor> model, Tensor images)
    {
        var (top, argmax) = nn.functional.softmax(model.forward(images).to_type(ScalarType.Float64), 1).max(1);
        return (top.data<double>().ToArray(), argmax.data<long>().ToArray());
    }

    private static string JsonOutputOf(CorruptionResult result) => StatFormer.Reporting.JsonOutput.Serialize(result);

    [Fact]
    public void OptionsAreCheckedAgainstTheImages()
    {
        using var test = Data(8);
        Assert.Equal("Corruptions", Assert.Throws<ArgumentException>(() => new CorruptionOptions { Corruptions = "frost" }.ValidateFor(test)).ParamName);
        Assert.Equal("Corruptions", Assert.Throws<ArgumentException>(() => new CorruptionOptions { Corruptions = "zigzag" }.ValidateFor(test)).ParamName);
        Assert.Equal("Corruptions", Assert.Throws<ArgumentException>(() => new CorruptionOptions { Corruptions = "fog,fog" }.ValidateFor(test)).ParamName);
        Assert.Equal("Severities", Assert.Throws<ArgumentException>(() => new CorruptionOptions { Corruptions = "fog", Severities = "3..1" }.ValidateFor(test)).ParamName);
        Assert.Equal("MaxImages", Assert.Throws<ArgumentException>(() => new CorruptionOptions { Corruptions = "fog", MaxImages = 3 }.ValidateFor(test)).ParamName);
        Assert.Equal([1, 3, 5], CorruptionOptions.ParseSeverities("5,1,3"));
        Assert.Equal([2, 3, 4], CorruptionOptions.ParseSeverities("2..4"));
        Assert.Equal(CorruptionSets.Built(CorruptionSet.Cifar10C), new CorruptionOptions { Corruptions = "all" }.Resolve(CorruptionSet.Cifar10C));
        Assert.Empty(new CorruptionOptions().Resolve(CorruptionSet.Cifar10C));
    }
}
