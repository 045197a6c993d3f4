using StatFormer.Analysis;
using StatFormer.Fairness.Data;
using StatFormer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Fairness.Data;

public sealed class SyntheticFairDataTests
{
    private static Tensor All(FairSplit split) => split.Inputs(Enumerable.Range(0, split.Count).Select(i => (long)i).ToArray());

    [Fact]
    public void SameSeedSameData_DifferentSeedDifferentData()
    {
        using var a = SyntheticFairData.Create(seed: 1, trainCount: 300, testCount: 100);
        using var b = SyntheticFairData.Create(seed: 1, trainCount: 300, testCount: 100);
        using var c = SyntheticFairData.Create(seed: 2, trainCount: 300, testCount: 100);
        using var scope = torch.NewDisposeScope();
        Assert.True(TensorAssert.SameTensor(All(a.Train), All(b.Train)));
        Assert.True(TensorAssert.SameTensor(a.Test.Sensitive, b.Test.Sensitive));
        Assert.True(TensorAssert.SameTensor(a.Train.Targets, b.Train.Targets));
        Assert.False(TensorAssert.SameTensor(a.Train.Sensitive, c.Train.Sensitive));
        Assert.False(TensorAssert.SameTensor(a.Train.Sensitive[..100], a.Test.Sensitive));
    }

    [Fact]
    public void DatasetTensors_OutliveTheDisposeScopeTheyWereBuiltIn()
    {
        FairDataset data;
        using (torch.NewDisposeScope()) data = SyntheticFairData.Create(seed: 5, trainCount: 50, testCount: 20);
        using (data)
        {
            Assert.False(data.Train.Targets.IsInvalid);
            Assert.False(data.Test.SensitiveStandardized.IsInvalid);
            using var batch = data.Train.Inputs([0L, 49L]);
            Assert.Equal(new long[] { 2, 24 }, batch.shape);
            Assert.Throws<ArgumentException>(() => data.Train.Inputs([50L]));
        }
        Assert.True(data.Train.Targets.IsInvalid);
    }

    [Fact]
    public void ShapesGroupsAndStandardisation()
    {
        using var data = SyntheticFairData.Create(seed: 3, trainCount: 1000, testCount: 200);
        using var scope = torch.NewDisposeScope();
        Assert.Equal(("synthetic", FairInputKind.Tabular, 4, 2, true), (data.Name, data.Kind, data.NumClasses, data.SensitiveDim, data.SensitiveIsContinuous));
        Assert.Equal(24, data.Train.InputDim);
        var x = All(data.Train);
        Assert.Equal(new long[] { 1000, 24 }, x.shape);
        Assert.True(x.mean([0L]).abs().max().item<float>() < 1e-4f);
        Assert.True((x.std([0L], unbiased: false) - 1).abs().max().item<float>() < 1e-4f);

        var z = data.Train.Sensitive.data<float>().ToArray();
        var groups = data.Train.Groups.data<long>().ToArray();
        for (var i = 0; i < 1000; i++)
        {
            var (z1, z2) = (z[2 * i], z[2 * i + 1]);
            Assert.True(z1 * z1 + z2 * z2 <= 1.0001f);
            Assert.Equal(z2 >= 0 ? (z1 >= 0 ? 0 : 1) : (z1 < 0 ? 2 : 3), groups[i]);
        }
        for (var g = 0; g < 4; g++) Assert.InRange(groups.Count(v => v == g), 180, 320);
        for (var y = 0; y < 4; y++) Assert.InRange(data.Train.Targets.eq(y).sum().item<long>(), 180, 320);
    }

    [Fact]
    public void ZIsLinearlyRecoverable_AndClassesAreLinearlySeparableEnough()
    {
        using var data = SyntheticFairData.Create(seed: 4, trainCount: 2000, testCount: 1000);
        using var scope = torch.NewDisposeScope();
        var (trainX, testX) = (All(data.Train), All(data.Test));
        using var zProbe = LinearProbe.FitRegressor(trainX, data.Train.Sensitive);
        var r2 = zProbe.RSquared(testX, data.Test.Sensitive);
        // Each z direction is 6·z (variance 9) plus unit noise: R² ≈ 9/10.
        Assert.InRange(r2, 0.85, 0.95);

        using var classProbe = LinearProbe.FitClassifier(trainX, data.Train.Targets, 4);
        Assert.True(classProbe.Accuracy(testX, data.Test.Targets) > 0.8, $"class accuracy {classProbe.Accuracy(testX, data.Test.Targets)}");

        // z says nothing about the class: a classifier on z alone is at chance.
        using var zOnly = LinearProbe.FitClassifier(data.Train.Sensitive, data.Train.Targets, 4);
        Assert.InRange(zOnly.Accuracy(data.Test.Sensitive, data.Test.Targets), 0.19, 0.32);
    }
}
