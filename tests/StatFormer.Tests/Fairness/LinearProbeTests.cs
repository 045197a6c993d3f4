using StatFormer.Evaluation;
using StatFormer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Fairness;

public sealed class LinearProbeTests
{
    /// <summary>Features with very different scales and offsets, so the probe's own standardisation matters.</summary>
    private static Tensor Features(Generator g, int n, int d)
    {
        var scales = torch.tensor(Enumerable.Range(0, d).Select(j => (float)Math.Pow(10, j - 2)).ToArray());
        return torch.randn([n, d], generator: g) * scales + 50f;
    }

    [Fact]
    public void Classifier_RecoversAPlantedLinearRule()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(3);
        var rule = torch.randn([5, 3], generator: g) * 4;
        var x = Features(g, 1200, 5);
        var standardized = (x - x.mean([0L])) / x.std([0L]);
        var y = standardized.matmul(rule).argmax(1);
        var (trainX, trainY, testX, testY) = (x[..800], y[..800], x[800..], y[800..]);

        using var probe = LinearProbe.FitClassifier(trainX, trainY, classes: 3);
        Assert.True(probe.Accuracy(testX, testY) > 0.95, $"test accuracy {probe.Accuracy(testX, testY)}");
        Assert.True(probe.Accuracy(trainX, trainY) > 0.97);
        Assert.Equal(new long[] { 400 }, probe.Predict(testX).shape);

        // Deterministic: zero init and full-batch L-BFGS give the same weights every time.
        using var again = LinearProbe.FitClassifier(trainX, trainY, classes: 3);
        Assert.True(TensorAssert.SameTensor(again.Weight, probe.Weight));
    }

    [Fact]
    public void Classifier_ChanceLevelOnNoiseLabels()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(4);
        var x = torch.randn([1000, 4], generator: g);
        var y = torch.randint(0, 2, [1000], dtype: ScalarType.Int64, generator: g);
        using var probe = LinearProbe.FitClassifier(x[..500], y[..500], classes: 2);
        Assert.InRange(probe.Accuracy(x[500..], y[500..]), 0.4, 0.6);
    }

    [Fact]
    public void Regressor_TestErrorIsTheNoiseVariance()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(5);
        var x = Features(g, 4000, 6);
        var standardized = (x - x.mean([0L])) / x.std([0L]);
        var coefficients = torch.randn([6, 3], generator: g) * 30;
        const double noiseStd = 0.5;
        var targets = standardized.matmul(coefficients) + 100f + noiseStd * torch.randn([4000, 3], generator: g);

        using var probe = LinearProbe.FitRegressor(x[..2000], targets[..2000]);
        var mse = probe.MeanSquaredError(x[2000..], targets[2000..]);
        // The MSE of 2000×3 squared N(0, 0.25) errors has sd ≈ 0.25·√(2/6000) ≈ 0.005; the fit adds ≈ 0.25·6/2000.
        Assert.InRange(mse, 0.23, 0.27);
        Assert.True(probe.RSquared(x[2000..], targets[2000..]) > 0.99);
        Assert.Equal(new long[] { 2000, 3 }, probe.Predict(x[2000..]).shape);
    }

    [Fact]
    public void Regressor_UnrelatedTargetsKeepTheirVariance()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(6);
        var x = torch.randn([2000, 4], generator: g);
        var targets = 40 * torch.randn([2000, 2], generator: g);
        using var probe = LinearProbe.FitRegressor(x[..1000], targets[..1000]);
        // Nothing to learn: the test MSE is the target variance (1600) on the raw scale.
        Assert.InRange(probe.MeanSquaredError(x[1000..], targets[1000..]), 1450, 1750);
        Assert.InRange(probe.RSquared(x[1000..], targets[1000..]), -0.05, 0.02);
    }

    [Fact]
    public void MajorityRate_IsTheShareOfTheMostFrequentLabel()
    {
        using var labels = torch.tensor(new long[] { 0, 1, 1, 2, 1 });
        Assert.Equal(0.6, LinearProbe.MajorityRate(labels), 12);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(4, 2);
        Assert.Throws<ArgumentException>(() => LinearProbe.FitClassifier(x, torch.tensor(new long[] { 0, 1, 2, 1 }), classes: 2));
        Assert.Throws<ArgumentException>(() => LinearProbe.FitClassifier(x, torch.tensor(new long[] { 0, 1 }), classes: 2));
        Assert.Throws<ArgumentException>(() => LinearProbe.FitRegressor(x, torch.randn(4)));
    }
}
