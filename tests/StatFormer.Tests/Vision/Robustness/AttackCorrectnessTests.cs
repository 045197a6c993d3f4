using StatFormer.Reporting;
using StatFormer.Vision.Data;
using StatFormer.Vision.Robustness;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Robustness;

public sealed class AttackCorrectnessTests(ITestOutputHelper output)
{
    /// <summary>Every attack, cut to a few iterations so the suite stays fast.</summary>
    internal static readonly AttackOptions Quick = new()
    {
        Attacks = Enum.GetValues<AttackKind>(),
        PgdSteps = 5, SpsaIterations = 3, SpsaSamples = 8, ApgdIterations = 10, ApgdTargets = 2, SquareQueries = 30,
        BatchSize = 16, Seed = 3,
    };

    private static readonly ChannelNormalization Cifar = ChannelNormalization.Cifar10;

    public static TheoryData<AttackKind> AllKinds()
    {
        var data = new TheoryData<AttackKind>();
        foreach (var kind in Enum.GetValues<AttackKind>()) data.Add(kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void OutputStaysInTheBallAndTheUnitRange(AttackKind kind)
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        model.eval();
        using var data = AttackTestData.Random(12, 3, 6, 10, seed: 2);
        var (images, labels) = AttackTestData.All(data);
        const double epsilon = 8.0 / 255;
        var threat = ImageAttacks.Threat(kind, epsilon, Quick, Cifar);
        using var generator = new Generator(5);
        using var adversarial = ImageAttacks.Create(kind, Quick).Perturb(model, images, labels, threat, generator);
        Assert.Equal(images.shape, adversarial.shape);
        using var distance = threat.Distance(adversarial, images);
        Assert.True(distance.max().item<float>() <= threat.Epsilon * (1 + 1e-5) + 1e-7, $"{kind}: distance {distance.max().item<float>()} > {threat.Epsilon}");
        Assert.True(adversarial.min().item<float>() >= 0 && adversarial.max().item<float>() <= 1, $"{kind} left [0, 1]");
        Assert.True(adversarial.ne(images).any().item<bool>(), $"{kind} did not move any image");
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void NormalisedModeBoundsEachChannelByEpsilonTimesStdWithoutClipping(AttackKind kind)
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        model.eval();
        using var data = AttackTestData.Random(12, 3, 6, 10, seed: 2);
        var (images, labels) = AttackTestData.All(data);
        var options = Quick with { NormalisedEpsilon = true };
        const double epsilon = 0.1;
        var threat = ImageAttacks.Threat(kind, epsilon, options, Cifar);
        using var generator = new Generator(5);
        using var adversarial = ImageAttacks.Create(kind, options).Perturb(model, images, labels, threat, generator);
        using var delta = adversarial - images;
        for (var c = 0; c < 3; c++)
        {
            var bound = epsilon * Cifar.Std[c];
            using var channel = delta[.., c];
            if (kind == AttackKind.PgdL2) continue;   // checked through the scaled L2 distance below
            Assert.True(channel.abs().max().item<float>() <= bound * (1 + 1e-5) + 1e-7, $"{kind}: channel {c} moved more than ε·std");
        }
        using var distance = threat.Distance(adversarial, images);
        Assert.True(distance.max().item<float>() <= epsilon * (1 + 1e-5) + 1e-7);
        if (kind is AttackKind.Pgd or AttackKind.Square)
        {
            // Pixels at 0 or 255 exist in the data, and nothing clips: some coordinates leave [0, 1].
            Assert.True(adversarial.min().item<float>() < 0 || adversarial.max().item<float>() > 1, $"{kind} was clipped");
        }
    }

    [Fact]
    public void EpsilonZeroGivesCleanAccuracyForEveryAttack()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = AttackTestData.Random(40, 3, 6, 10, seed: 4);
        var result = RobustnessEvaluation.Evaluate(model, data, Quick with { Epsilons = new[] { 0.0 } }, Cifar);
        Assert.Equal(40, result.Images);
        Assert.InRange(result.CleanAccuracy, 0.01, 0.99);   // random labels: some right, some wrong
        foreach (var curve in result.Curves)
            Assert.Equal(result.CleanAccuracy, Assert.Single(curve.Points).RobustAccuracy);
        Assert.Equal(result.CleanAccuracy, Assert.Single(result.WorstCase!).RobustAccuracy);
    }

    [Fact]
    public void FgsmOnALinearTwoClassModelIsTheClosedFormWorstCase()
    {
        using var generator = new Generator(11);
        const int pixels = 2 * 4 * 4;
        using var weight = torch.randn(2, pixels, generator: generator);
        using var bias = torch.tensor(new[] { 0.3f, -0.3f });
        using var model = new LinearImageModel(weight, bias);
        model.eval();
        // Pixels in [0.31, 0.69] and ε = 0.05: the [0, 1] clip never binds.
        using var data = AttackTestData.Random(20, 2, 4, 2, seed: 12, low: 80, high: 175);
        var (images, labels) = AttackTestData.All(data);
        const double epsilon = 0.05;
        var threat = new ThreatModel(ThreatNorm.LInf, epsilon);
        using var attackGenerator = new Generator(1);
        using var adversarial = new FgsmAttack().Perturb(model, images, labels, threat, attackGenerator);

        var w = weight.data<float>().ToArray();
        var x = images.flatten(1).data<float>().ToArray();
        var xAdv = adversarial.flatten(1).data<float>().ToArray();
        var y = labels.data<long>().ToArray();
        for (var i = 0; i < 20; i++)
        {
            int own = (int)y[i], other = 1 - own;
            double marginBefore = 0.3 * (own == 0 ? 2 : -2), marginAfter = marginBefore, l1 = 0;
            for (var j = 0; j < pixels; j++)
            {
                var difference = w[other * pixels + j] - w[own * pixels + j];
                var expected = x[i * pixels + j] + epsilon * Math.Sign(difference);
                Assert.Equal(expected, xAdv[i * pixels + j], 5);
                marginBefore -= difference * x[i * pixels + j];
                marginAfter -= difference * xAdv[i * pixels + j];
                l1 += Math.Abs(difference);
            }
            // The margin z_y − z_other falls by exactly ε‖w_y − w_other‖₁, the most any point of the ball achieves.
            Assert.Equal(epsilon * l1, marginBefore - marginAfter, 3);
        }
    }

    private static ImageDataset LabelledMlpData(ImageMlp model, int n, int seed)
    {
        using var raw = AttackTestData.Random(n, 3, 6, 10, seed);
        return AttackTestData.LabelledBy(model, raw);
    }

    [Fact]
    public void MorePgdStepsOrRestartsNeverRaiseRobustAccuracy()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = LabelledMlpData(model, 120, seed: 6);
        var options = new AttackOptions { Attacks = new[] { AttackKind.Pgd }, Epsilons = new[] { 1.0 / 255 }, BatchSize = 50, Seed = 9 };
        double Accuracy(AttackOptions o) => RobustnessEvaluation.Evaluate(model, data, o, Cifar).Curves[0].Points[0].RobustAccuracy;

        var bySteps = new[] { 1, 2, 3, 5, 10, 20 }.Select(steps => Accuracy(options with { PgdSteps = steps })).ToArray();
        var byRestarts = new[] { 1, 2, 4 }.Select(restarts => Accuracy(options with { PgdSteps = 3, Restarts = restarts })).ToArray();
        output.WriteLine($"steps 1,2,3,5,10,20: {string.Join(" ", bySteps)}; restarts 1,2,4: {string.Join(" ", byRestarts)}");
        for (var i = 1; i < bySteps.Length; i++) Assert.True(bySteps[i] <= bySteps[i - 1], $"steps: {string.Join(" ", bySteps)}");
        for (var i = 1; i < byRestarts.Length; i++) Assert.True(byRestarts[i] <= byRestarts[i - 1], $"restarts: {string.Join(" ", byRestarts)}");
        // The attack does work here, so the ordering is not the trivial one of a constant.
        Assert.True(bySteps[^1] < bySteps[0] && bySteps[0] < 1, $"steps: {string.Join(" ", bySteps)}");
    }

    [Fact]
    public void EvaluationAddsNoGradientsAndRestoresTheMode()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = AttackTestData.Random(10, 3, 6, 10, seed: 4);
        model.train();
        RobustnessEvaluation.Evaluate(model, data, Quick with { Epsilons = new[] { 4.0 / 255 } }, Cifar);
        Assert.True(model.training);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        model.eval();
        using var examples = RobustnessEvaluation.Examples(model, data, AttackKind.Pgd, 4.0 / 255, 3, Quick, Cifar);
        Assert.False(model.training);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void SameSeedSameNumbersAndTheResultSerialises()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = LabelledMlpData(model, 30, seed: 8);
        var options = Quick with { Epsilons = new[] { 2.0 / 255, 8.0 / 255 } };
        var first = JsonOutput.Serialize(RobustnessEvaluation.Evaluate(model, data, options, Cifar));
        var second = JsonOutput.Serialize(RobustnessEvaluation.Evaluate(model, data, options, Cifar));
        Assert.Equal(first, second);
        Assert.Contains("\"gradient_free\": true", first);
        Assert.Contains("\"worst_case\"", first);
        Assert.Contains("\"gradient_free_robust_accuracy\"", first);
        output.WriteLine(first);
    }

    [Fact]
    public void WorstCaseIsAtMostEveryCurveAndPredictionLabelsMatchTrueLabelsOnAPerfectModel()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = LabelledMlpData(model, 30, seed: 8);
        var options = Quick with { Epsilons = new[] { 2.0 / 255, 8.0 / 255 } };
        var result = RobustnessEvaluation.Evaluate(model, data, options, Cifar);
        Assert.Equal(1.0, result.CleanAccuracy);
        for (var e = 0; e < 2; e++)
            Assert.True(result.WorstCase![e].RobustAccuracy <= result.Curves.Min(c => c.Points[e].RobustAccuracy));
        Assert.All(result.Curves, c => Assert.True(c.Points[0].RobustAccuracy >= result.WorstCase![0].RobustAccuracy));
        // The clean predictions are the labels here, so both label choices attack the same targets.
        var byPrediction = RobustnessEvaluation.Evaluate(model, data, options with { Labels = AttackLabels.Prediction }, Cifar);
        Assert.Equal(JsonOutput.Serialize(result), JsonOutput.Serialize(byPrediction));
    }

    [Fact]
    public void ExamplesReturnWhatEvaluationCounts()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = LabelledMlpData(model, 16, seed: 8);
        var options = new AttackOptions { Attacks = new[] { AttackKind.Pgd }, Epsilons = new[] { 4.0 / 255 }, BatchSize = 16, Seed = 2, PgdSteps = 5 };
        var result = RobustnessEvaluation.Evaluate(model, data, options, Cifar);
        using var examples = RobustnessEvaluation.Examples(model, data, AttackKind.Pgd, 4.0 / 255, 16, options, Cifar);
        Assert.Equal(new long[] { 16, 3, 6, 6 }, examples.Adversarial.shape);
        var correct = examples.AdversarialPredictions.eq(examples.Labels).sum().item<long>();
        Assert.Equal(result.Curves[0].Points[0].RobustAccuracy, correct / 16.0, 12);
        Assert.True(examples.CleanPredictions.eq(examples.Labels).all().item<bool>());
    }

    [Fact]
    public void AnAttackSubsetOfAClassSortedSetHoldsEveryClassAndIsWhatEvaluationAttacks()
    {
        // 5 classes stored class by class, 8 images each: a prefix of 10 would be classes 0 and 1 only.
        using var model = new ImageMlp(3 * 6 * 6, 32, 5, seed: 1);
        using var random = AttackTestData.Random(40, 3, 6, 5, seed: 4);
        using var sortedLabels = torch.arange(40, dtype: ScalarType.Int64).div(8, rounding_mode: RoundingMode.floor);
        using var data = new ImageDataset(random.Pixels.clone(), sortedLabels.clone(), random.ClassNames, "class-sorted");
        var options = new AttackOptions { Attacks = new[] { AttackKind.Fgsm }, Epsilons = new[] { 0.0 }, BatchSize = 4, MaxImages = 10, Seed = 6 };

        var subset = RobustnessEvaluation.AttackedImages(data, options);
        Assert.Equal(10, subset.Length);
        Assert.Equal(Enumerable.Repeat(2, 5), subset.GroupBy(i => i / 8).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Equal(subset.Order(), subset);
        Assert.Equal(subset, RobustnessEvaluation.AttackedImages(data, options));
        Assert.NotEqual(subset, RobustnessEvaluation.AttackedImages(data, options with { Seed = 7 }));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), RobustnessEvaluation.AttackedImages(data, options with { MaxImages = null }));

        // ε = 0: robust accuracy is the clean accuracy of exactly those images.
        var result = RobustnessEvaluation.Evaluate(model, data, options, Cifar);
        Assert.Equal(10, result.Images);
        using var index = torch.tensor(subset);
        var (images, labels) = data.Batch(index);
        using var _ = images;
        using var __ = labels;
        model.eval();
        using var predictions = model.forward(images).argmax(1);
        Assert.Equal(predictions.eq(labels).sum().item<long>() / 10.0, result.CleanAccuracy, 12);
        Assert.Equal(result.CleanAccuracy, result.Curves[0].Points[0].RobustAccuracy, 12);
    }

    [Fact]
    public void ChannelMismatchIsAClearError()
    {
        using var model = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        using var data = AttackTestData.Random(4, 3, 6, 10, seed: 4);
        var e = Assert.Throws<ArgumentException>(() => RobustnessEvaluation.Evaluate(model, data, Quick, ChannelNormalization.Mnist));
        Assert.Equal("normalization", e.ParamName);
    }
}
