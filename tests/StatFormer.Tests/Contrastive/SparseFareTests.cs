using StatFormer.Contrastive;
using TorchSharp;
using static StatFormer.Tests.Contrastive.ContrastiveTestData;
using static TorchSharp.torch;
using Ref = StatFormer.Tests.Contrastive.ContrastiveReference;

namespace StatFormer.Tests.Contrastive;

public class SparseFareTests
{
    private static SparseFareLoss Sparse(ContrastiveLossOptions options, double[,] rotation, int dz = 3)
    {
        var loss = new SparseFareLoss(dz, options) { InjectedRotation = Matrix(rotation) };
        return loss;
    }

    /// <summary>Loss value and the gradients of view1, view2, W_Q, W_K.</summary>
    private static (double Loss, Tensor[] Gradients) LossAndGradients(FareLoss loss, double[][] v1, double[][] v2, double[][] z)
    {
        loss.zero_grad();
        var x = Rows(v1).requires_grad_();
        var y = Rows(v2).requires_grad_();
        var value = loss.forward(x, y, Sensitive(z));
        value.backward();
        return (value.item<float>(), new[] { x.grad!, y.grad!, loss.QueryProjection.grad!, loss.KeyProjection.grad! });
    }

    private static readonly string[] GradientNames = { "d/dview1", "d/dview2", "d/dW_Q", "d/dW_K" };

    [Theory]
    [InlineData(SparseFareVariant.AdjacentChunk, SparseFareImplementation.SortAndChunk)]
    [InlineData(SparseFareVariant.AdjacentChunk, SparseFareImplementation.DenseMasked)]
    [InlineData(SparseFareVariant.WithinBucket, SparseFareImplementation.SortAndChunk)]
    [InlineData(SparseFareVariant.WithinBucket, SparseFareImplementation.DenseMasked)]
    public void OneChunkAndOneBucketIsFare(SparseFareVariant variant, SparseFareImplementation implementation)
    {
        // All z have a positive first coordinate, and R = e_1: every zR > 0, so argmax([zR, −zR]) = 0 for all.
        double[][] z = { [1.0, 0.2, -0.5], [0.9, 0.3, -0.4], [0.1, 0.5, 0.8], [0.2, -1.2, 0.3] };
        var options = new ContrastiveLossOptions { Buckets = 2, ChunkSize = 4, Variant = variant, Implementation = implementation, AttentionDim = 2 };
        using var scope = torch.NewDisposeScope();
        using var fare = new FareLoss(3, options);
        using var sparse = Sparse(options, new double[,] { { 1 }, { 0 }, { 0 } });
        var random = new Random(3);
        var (wq, wk) = (RandomMatrix(random, 3, 2), RandomMatrix(random, 3, 2));
        SetProjections(fare, wq, wk);
        SetProjections(sparse, wq, wk);
        var (expected, expectedGrads) = LossAndGradients(fare, View1, View2, z);
        var (actual, actualGrads) = LossAndGradients(sparse, View1, View2, z);
        AssertClose(expected, actual);
        for (var g = 0; g < 4; g++) AssertTensorsClose(expectedGrads[g], actualGrads[g], 1e-5, GradientNames[g]);
    }

    [Theory]
    [InlineData(SparseFareVariant.AdjacentChunk, SparseFareImplementation.SortAndChunk, 3, false)]
    [InlineData(SparseFareVariant.AdjacentChunk, SparseFareImplementation.DenseMasked, 3, false)]
    [InlineData(SparseFareVariant.AdjacentChunk, SparseFareImplementation.SortAndChunk, 2, true)]
    [InlineData(SparseFareVariant.AdjacentChunk, SparseFareImplementation.SortAndChunk, 1, false)]
    [InlineData(SparseFareVariant.WithinBucket, SparseFareImplementation.SortAndChunk, 3, false)]
    [InlineData(SparseFareVariant.WithinBucket, SparseFareImplementation.DenseMasked, 3, false)]
    [InlineData(SparseFareVariant.WithinBucket, SparseFareImplementation.SortAndChunk, 4, true)]
    public void MatchesTheSupportDefinitionComputedByHand(SparseFareVariant variant, SparseFareImplementation implementation, int chunk, bool includePositive)
    {
        var random = new Random(11);
        var (v1, v2, z) = (RandomRows(random, 7, 5), RandomRows(random, 7, 5), RandomRows(random, 7, 3));
        var rotation = RandomMatrix(random, 3, 2);
        var (wq, wk) = (RandomMatrix(random, 3, 3), RandomMatrix(random, 3, 3));
        var options = new ContrastiveLossOptions
        {
            Buckets = 4, ChunkSize = chunk, Variant = variant, Implementation = implementation, IncludePositive = includePositive, Temperature = 0.5,
        };
        var support = Ref.SparseSupport(z, rotation, normalize: true, chunk, variant == SparseFareVariant.WithinBucket,
            chunked: implementation == SparseFareImplementation.SortAndChunk, includePositive);
        var p = Ref.Attention(z, wq, wk, Math.Sqrt(3), normalize: true, support);
        var expected = Ref.Fare(v1, v2, p, 0.5, 6, sameView: false);
        using var scope = torch.NewDisposeScope();
        using var sparse = Sparse(options, rotation);
        SetProjections(sparse, wq, wk);
        AssertClose(expected, sparse.forward(Rows(v1), Rows(v2), Sensitive(z)).item<float>());
        // The case is not degenerate: the support is neither everything nor nothing.
        var allowed = Enumerable.Range(0, 7).Sum(i => Enumerable.Range(0, 7).Count(j => support(i, j)));
        Assert.InRange(allowed, 1, 7 * 6 - 1);
    }

    [Theory]
    [InlineData(SparseFareVariant.AdjacentChunk, 11, 4, false)]
    [InlineData(SparseFareVariant.AdjacentChunk, 11, 4, true)]
    [InlineData(SparseFareVariant.AdjacentChunk, 9, 2, false)]
    [InlineData(SparseFareVariant.WithinBucket, 7, 8, false)]
    [InlineData(SparseFareVariant.WithinBucket, 7, 8, true)]
    public void SortAndChunkAgreesWithDenseMaskedInLossAndGradients(SparseFareVariant variant, int b, int chunk, bool sameView)
    {
        var random = new Random(b * 100 + chunk);
        var (v1, v2, z) = (RandomRows(random, b, 6), RandomRows(random, b, 6), RandomRows(random, b, 3));
        var rotation = RandomMatrix(random, 3, 3);
        var (wq, wk) = (RandomMatrix(random, 3, 2), RandomMatrix(random, 3, 2));
        var options = new ContrastiveLossOptions { Buckets = 6, ChunkSize = chunk, Variant = variant, AttentionDim = 2, SameViewNegatives = sameView, Temperature = 0.2 };
        using var scope = torch.NewDisposeScope();
        using var dense = Sparse(options with { Implementation = SparseFareImplementation.DenseMasked }, rotation);
        using var chunked = Sparse(options with { Implementation = SparseFareImplementation.SortAndChunk }, rotation);
        SetProjections(dense, wq, wk);
        SetProjections(chunked, wq, wk);
        var (expected, expectedGrads) = LossAndGradients(dense, v1, v2, z);
        var (actual, actualGrads) = LossAndGradients(chunked, v1, v2, z);
        AssertClose(expected, actual);
        for (var g = 0; g < 4; g++)
        {
            AssertTensorsClose(expectedGrads[g], actualGrads[g], 1e-5, GradientNames[g]);
            Assert.True(expectedGrads[g].abs().sum().item<float>() > 0, $"{GradientNames[g]} is all zero");
        }
    }

    [Fact]
    public void EverySampleAloneInItsBucketGivesZeroLossWithoutNaN()
    {
        // Buckets = 8 (R has 4 columns = the coordinate axes of d_z = 4): each z points along its own axis.
        double[][] z = { [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0] };
        var rotation = new double[4, 4];
        for (var i = 0; i < 4; i++) rotation[i, i] = 1;
        foreach (var implementation in new[] { SparseFareImplementation.SortAndChunk, SparseFareImplementation.DenseMasked })
        {
            var options = new ContrastiveLossOptions { Buckets = 8, ChunkSize = 2, Variant = SparseFareVariant.WithinBucket, Implementation = implementation };
            using var scope = torch.NewDisposeScope();
            using var sparse = Sparse(options, rotation, dz: 4);
            var (loss, gradients) = LossAndGradients(sparse, View1[..3], View2[..3], z);
            Assert.Equal(0.0, loss);
            foreach (var g in gradients) AssertFinite(g, "gradient");
            var diagnostics = sparse.Diagnose(Sensitive(z));
            Assert.Equal(3, diagnostics.EmptySupportRows);
            Assert.Equal(0.0, diagnostics.MeanSupportSize);
        }
    }

    [Fact]
    public void HashIsTheArgmaxOfZRAndMinusZR()
    {
        using var scope = torch.NewDisposeScope();
        using var sparse = Sparse(new ContrastiveLossOptions { Buckets = 4 }, new double[,] { { 1, 0 }, { 0, 1 }, { 0, 0 } });
        // zR = (z_1, z_2); buckets 0,1 = +z_1,+z_2 largest, 2,3 = −z_1,−z_2 largest.
        var (buckets, order) = sparse.Hash(Rows([[0.9, 0.1, 0], [0.1, 0.8, 0], [-0.9, 0.2, 0], [0.1, -0.7, 0], [0.5, 0.2, 0]]));
        Assert.Equal(new long[] { 0, 1, 2, 3, 0 }, buckets.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 4, 1, 2, 3 }, order.data<long>().ToArray());
    }

    [Fact]
    public void BucketCountMustBeEvenAndAtLeastTwo()
    {
        var error = Assert.Throws<ArgumentException>(() => new SparseFareLoss(3, new ContrastiveLossOptions { Buckets = 3 }));
        Assert.Equal("Buckets", error.ParamName);
    }
}
