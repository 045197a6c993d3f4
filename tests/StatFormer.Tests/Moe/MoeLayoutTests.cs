using StatFormer.Moe;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

/// <summary>Where the MoE layers go: the Switch and GLaM layouts from block 0, and V-MoE's odd blocks from <see cref="MoeLayout.FirstMoeLayer"/> = 1.</summary>
public class MoeLayoutTests
{
    private static MoeLayout Layout(MoeKind router, int every, int first = 0, int acBase = 1) =>
        new() { Router = router, Every = every, FirstMoeLayer = first, AcBaseLayers = acBase, Layer = new MoeOptions { Experts = 4, TopK = 2 } };

    [Theory]
    [InlineData(1, 0, new[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData(2, 0, new[] { 0, 2, 4 })]
    [InlineData(2, 1, new[] { 1, 3, 5 })]
    [InlineData(1, 2, new[] { 2, 3, 4, 5 })]
    [InlineData(2, 3, new[] { 3, 5 })]
    public void LayersStartAtTheFirstMoeLayerAndFollowEveryOtherBlock(int every, int first, int[] expected) =>
        Assert.Equal(expected, Layout(MoeKind.Smoe, every, first).LayersOf(6));

    [Fact]
    public void TheDefaultLayoutIsUnchanged()
    {
        Assert.Equal(0, new MoeLayout().FirstMoeLayer);
        Assert.Equal([0, 2, 4], (new MoeLayout { Router = MoeKind.Smoe, Every = 2 }).LayersOf(6));
    }

    /// <summary>The AC base layers count MoE layers, not blocks: V-MoE's first MoE block (block 1) routes with the base router, the later odd blocks with the AC router.</summary>
    [Fact]
    public void TheFirstVMoeBlockUsesTheBaseRouterAndTheStackBuildsItThere()
    {
        var layout = Layout(MoeKind.AcXmoe, every: 2, first: 1);
        Assert.Equal([MoeKind.Xmoe, MoeKind.AcXmoe, MoeKind.AcXmoe], layout.KindsOf(6));
        Assert.Equal([MoeKind.Xmoe, MoeKind.Xmoe, MoeKind.AcXmoe], Layout(MoeKind.AcXmoe, 2, 1, acBase: 2).KindsOf(6));

        torch.manual_seed(5);
        using var stack = new TransformerStack(new TransformerStackOptions { Layers = 6, DModel = 8, Heads = 2, Dropout = 0, Moe = layout }, causal: false);
        var routers = stack.Blocks.Select(b => b.MixtureOfExperts?.Router).ToArray();
        Assert.All(new[] { 0, 2, 4 }, l => Assert.NotNull(stack.Blocks[l].FeedForward));
        Assert.IsType<CosineRouter>(routers[1]);
        Assert.IsType<AdaptiveClusteringRouter>(routers[3]);
        Assert.IsType<AdaptiveClusteringRouter>(routers[5]);

        // The routing reaches the AC layers across the dense blocks between them.
        stack.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var output = stack.forward(randn(new long[] { 2, 5, 8 }, generator: new Generator(1)), null, true);
        Assert.Equal([false, true, false, true, false, true], output.Layers!.Select(l => l.Routing is not null).ToArray());
        Assert.NotNull(output.AuxiliaryLoss);
    }

    [Fact]
    public void AFirstMoeLayerOutsideTheStackOrLeavingNoAcLayerIsRefused()
    {
        var outside = Assert.Throws<ArgumentException>(() => Layout(MoeKind.Smoe, 2, first: 6).Validate(6));
        Assert.Equal(nameof(MoeLayout.FirstMoeLayer), outside.ParamName);
        Assert.Contains("0..5", outside.Message);
        Assert.Throws<ArgumentException>(() => Layout(MoeKind.Smoe, 2, first: -1).Validate(6));
        // Blocks 3 and 5 only: with two base layers no AC layer is left.
        var noAc = Assert.Throws<ArgumentException>(() => Layout(MoeKind.AcSmoe, 2, first: 3, acBase: 2).Validate(6));
        Assert.Equal(nameof(MoeLayout.AcBaseLayers), noAc.ParamName);
        Layout(MoeKind.AcSmoe, 2, first: 3, acBase: 1).Validate(6);
    }
}
