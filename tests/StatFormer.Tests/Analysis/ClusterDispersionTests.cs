using StatFormer.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Analysis;

public class ClusterDispersionTests
{
    private static Tensor Labels(params long[] values) => tensor(values);

    [Fact]
    public void FourPointsInOneDimension()
    {
        // Clusters {0, 2} (mean 1) and {10, 14} (mean 12); overall mean 6.5.
        // Within: 1 + 1 + 4 + 4 = 10. Total: 6.5² + 4.5² + 3.5² + 7.5² = 42.25 + 20.25 + 12.25 + 56.25 = 131.
        var dispersion = new ClusterDispersion(2);
        dispersion.Add(tensor(new float[] { 0, 2, 10, 14 }).reshape(4, 1), Labels(0, 0, 1, 1));
        Assert.Equal(10.0 / 131, dispersion.WithinToTotalRatio, 12);
        Assert.Equal(new[] { 1.0, 4.0 }, dispersion.PerClusterMeanSquaredDistance);
        Assert.Equal(4, dispersion.Count);
    }

    [Fact]
    public void ClustersThatArePointsHaveZeroDispersion()
    {
        var dispersion = new ClusterDispersion(3);
        dispersion.Add(tensor(new float[] { 1, 2, 1, 2, 5, 0 }).reshape(3, 2), Labels(0, 0, 1));
        Assert.Equal(0.0, dispersion.WithinToTotalRatio, 12);
        var perCluster = dispersion.PerClusterMeanSquaredDistance;
        Assert.Equal(0.0, perCluster[0], 12);
        Assert.Equal(0.0, perCluster[1], 12);
        Assert.True(double.IsNaN(perCluster[2]), "a cluster without points has no dispersion");
    }

    [Fact]
    public void OneClusterHasRatioOneAndIdenticalPointsAreUndefined()
    {
        var one = new ClusterDispersion(2);
        one.Add(tensor(new float[] { 0, 1, 3, 7 }).reshape(2, 2), Labels(1, 1));
        Assert.Equal(1.0, one.WithinToTotalRatio, 12);

        var same = new ClusterDispersion(2);
        same.Add(tensor(new float[] { 3, 3, 3, 3 }).reshape(2, 2), Labels(0, 1));
        Assert.True(double.IsNaN(same.WithinToTotalRatio));
    }

    [Fact]
    public void StreamingOverTwoBatchesEqualsOneBatch()
    {
        torch.manual_seed(1);
        using var features = randn(10, 3);
        using var labels = tensor(new long[] { 0, 1, 2, 0, 1, 2, 2, 2, 0, 1 });
        var whole = new ClusterDispersion(3);
        whole.Add(features, labels);
        var streamed = new ClusterDispersion(3);
        streamed.Add(features[..4], labels[..4]);
        streamed.Add(features[4..], labels[4..]);

        Assert.Equal(whole.WithinToTotalRatio, streamed.WithinToTotalRatio, 12);
        for (int k = 0; k < 3; k++)
            Assert.Equal(whole.PerClusterMeanSquaredDistance[k], streamed.PerClusterMeanSquaredDistance[k], 12);

        // Independent reference: the definitions evaluated directly.
        var f = features.to_type(ScalarType.Float64);
        double within = 0;
        for (long k = 0; k < 3; k++)
        {
            var members = f[labels.eq(k)];
            within += (members - members.mean(new long[] { 0 })).square().sum().item<double>();
        }
        double total = (f - f.mean(new long[] { 0 })).square().sum().item<double>();
        Assert.Equal(within / total, whole.WithinToTotalRatio, 10);
    }

    [Fact]
    public void FarFromTheOriginGivesTheSameRatio()
    {
        // Shift invariance, checked where Σ‖f‖² − N‖μ‖² about the origin would lose most of its digits.
        torch.manual_seed(2);
        using var features = randn(12, 4);
        using var labels = tensor(Enumerable.Range(0, 12).Select(i => (long)(i % 3)).ToArray());
        var near = new ClusterDispersion(3);
        near.Add(features.to_type(ScalarType.Float64), labels);
        var far = new ClusterDispersion(3);
        far.Add(features.to_type(ScalarType.Float64) + 1e6, labels);
        Assert.Equal(near.WithinToTotalRatio, far.WithinToTotalRatio, 8);
    }

    [Fact]
    public void RejectsInvalidInput()
    {
        var dispersion = new ClusterDispersion(2);
        dispersion.Add(zeros(3, 2), Labels(0, 1, 0));
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => dispersion.Add(zeros(3, 4), Labels(0, 1, 0))).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => dispersion.Add(zeros(3), Labels(0, 1, 0))).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => dispersion.Add(zeros(3, 2), Labels(0, 1))).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => dispersion.Add(zeros(3, 2), Labels(0, 2, 0))).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => dispersion.Add(zeros(3, 2), tensor(new[] { 0, 1, 0 }))).ParamName);
        Assert.Equal("clusters", Assert.Throws<ArgumentException>(() => new ClusterDispersion(0)).ParamName);
        Assert.Equal(3, dispersion.Count);
    }
}
