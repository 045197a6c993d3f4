using StatFormer.Attention;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Models;

/// <summary>The ViT and the ResNet reference: shapes, pooling, intermediates, the evaluation estimator, drop-path and input gradients.</summary>
[Collection(GlobalGeneratorCollection.Name)]
public class VisionModelTests
{
    private static VisionModelOptions Vit(AttentionKind attention = AttentionKind.Elliptical, VisionPooling pooling = VisionPooling.Cls, double dropPath = 0) => new()
    {
        PatchSize = 4, Pooling = pooling,
        Stack = new TransformerStackOptions { Layers = 3, DModel = 16, Heads = 2, Dropout = 0, DropPath = dropPath, FfnMultiplier = 2, Attention = attention },
    };

    private static Tensor Images(int batch, int channels, int size, int seed = 1) =>
        torch.rand(new long[] { batch, channels, size, size }, generator: new Generator((ulong)seed));

    [Theory]
    [InlineData(VisionPooling.Cls, 17)]
    [InlineData(VisionPooling.Mean, 16)]
    public void VitGivesLogitsAndOneRecordPerLayer(VisionPooling pooling, int tokens)
    {
        torch.manual_seed(0);
        var spec = VisionModelSpec.For(Vit(pooling: pooling), 3, 16, 16, 10);
        using var model = new VisionTransformer(spec);
        model.eval();
        using var scope = torch.NewDisposeScope();
        var output = model.Run(Images(5, 3, 16), recordIntermediates: true);
        Assert.Equal(new long[] { 5, 10 }, output.Logits.shape);
        Assert.Equal(tokens, model.Tokens);
        Assert.Equal(3, output.Layers!.Count);
        Assert.All(output.Layers, l => Assert.Equal(new long[] { 5, tokens, 16 }, l.Hidden.shape));
        // Layer 0 has no previous values; layers 1.. are elliptical.
        Assert.Null(output.Layers[0].Metric);
        Assert.NotNull(output.Layers[1].Metric);
        Assert.Equal(output.Logits.data<float>().ToArray(), model.forward(Images(5, 3, 16)).data<float>().ToArray());
    }

    [Fact]
    public void TheMedianEstimatorChangesAnEllipticalModelAndNotASoftmaxOne()
    {
        torch.manual_seed(0);
        var spec = VisionModelSpec.For(Vit(), 1, 8, 8, 3);
        using var elliptical = new VisionTransformer(spec);
        elliptical.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var images = Images(4, 1, 8);
        Assert.Equal(EllipticalEstimator.Sequence, elliptical.Estimator);
        var mean = elliptical.forward(images);
        elliptical.Estimator = EllipticalEstimator.Median;
        var median = elliptical.forward(images);
        Assert.True((mean - median).abs().max().item<float>() > 1e-6f, "the median estimator should change the function");
        Assert.Throws<ArgumentException>(() => elliptical.Estimator = EllipticalEstimator.Causal);

        using var softmax = new VisionTransformer(VisionModelSpec.For(Vit(AttentionKind.Softmax), 1, 8, 8, 3));
        Assert.Null(softmax.Estimator);
    }

    [Fact]
    public void DropPathDropsWholeSamplesInTrainingOnlyAndZeroDrawsNothing()
    {
        torch.manual_seed(0);
        var stackOptions = new TransformerStackOptions { Layers = 2, DModel = 8, Heads = 2, Dropout = 0, DropPath = 0.5 };
        Assert.Equal(0.0, stackOptions.DropPathAt(0));
        Assert.Equal(0.5, stackOptions.DropPathAt(1));
        using var stack = new TransformerStack(stackOptions, causal: false);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.randn(64, 3, 8, generator: new Generator(2));
        stack.train();
        var trained = stack.forward(x, null, true);
        // Block 0 has p = 0; block 1 drops each of its two branches per sample with p = 0.5, so about a quarter of the
        // samples leave it unchanged (both dropped) and the others do not.
        var unchanged = (trained.Output - trained.Layers![0].Hidden).abs().amax([1, 2]).lt(1e-7f).sum().item<long>();
        Assert.InRange(unchanged, 4, 32);
        stack.eval();
        var evaluation = stack.forward(x, null, true);
        Assert.Equal(0, (evaluation.Output - evaluation.Layers![0].Hidden).abs().amax([1, 2]).lt(1e-7f).sum().item<long>());

        // DropPath = 0 (every existing model) consumes no random numbers in training.
        torch.manual_seed(5);
        using var plain = new TransformerStack(stackOptions with { DropPath = 0 }, causal: false);
        plain.train();
        torch.manual_seed(9);
        plain.forward(x, null, false);
        var after = torch.rand(3);
        torch.manual_seed(9);
        Assert.Equal(torch.rand(3).data<float>().ToArray(), after.data<float>().ToArray());
    }

    [Fact]
    public void GradientsReachTheInputPixelsThroughTheNormalisation()
    {
        torch.manual_seed(0);
        foreach (var options in new[] { Vit(), Vit() with { Architecture = VisionArchitecture.Resnet18 } })
        {
            using var model = VisionModels.Create(VisionModelSpec.For(options, 1, 8, 8, 4));
            model.eval();
            using var scope = torch.NewDisposeScope();
            var images = Images(2, 1, 8).requires_grad_(true);
            nn.functional.cross_entropy(model.forward(images), torch.tensor(new long[] { 0, 3 })).backward();
            Assert.True(images.grad!.abs().sum().item<float>() > 0, $"{options.Architecture}: no gradient at the input");
        }
    }

    [Theory]
    [InlineData(1, 28, ResNetStem.Small)]
    [InlineData(3, 32, ResNetStem.Small)]
    [InlineData(3, 32, ResNetStem.ImageNet)]
    public void ResNetReferenceClassifiesSmallImages(int channels, int size, ResNetStem stem)
    {
        torch.manual_seed(0);
        var spec = VisionModelSpec.For(new VisionModelOptions { Architecture = VisionArchitecture.Resnet18, Stem = stem }, channels, size, size, 10);
        using var model = new ResNetClassifier(spec);
        model.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Assert.Equal(new long[] { 2, 10 }, model.forward(Images(2, channels, size)).shape);
        // TorchVision's ResNet-18 body (11.2 M parameters with a 1000-class head) behind the chosen stem.
        Assert.InRange(model.ParameterCount, 11_000_000, 11_300_000);
        Assert.Equal(channels == 1 ? ChannelNormalization.Mnist : ChannelNormalization.Cifar10, spec.Normalization);
    }

    /// <summary>Elliptical attention composes with AC-SMoE in every other block: routing records where the MoE layers are, the weighted balance loss scales with its weight, and the classification and balance losses train every router.</summary>
    [Fact]
    public void AnEllipticalMoeVitRoutesInEveryOtherBlockAndTrainsItsRouters()
    {
        VisionModelOptions Moe(double weight) => Vit() with
        {
            Stack = Vit().Stack with { Moe = new StatFormer.Moe.MoeLayout { Router = StatFormer.Moe.MoeKind.AcSmoe, Every = 2, BalanceWeight = weight, Layer = new StatFormer.Moe.MoeOptions { Experts = 4, TopK = 2 } } },
        };
        var spec = VisionModelSpec.For(Moe(0.01), 3, 16, 16, 10);
        Assert.Equal("elliptical+ac-smoe", spec.Model.VariantName);
        Assert.Equal([StatFormer.Moe.MoeKind.Smoe, StatFormer.Moe.MoeKind.AcSmoe], spec.Model.Stack.Moe.KindsOf(3));
        torch.manual_seed(3);
        using var model = new VisionTransformer(spec);
        torch.manual_seed(3);
        using var doubled = new VisionTransformer(VisionModelSpec.For(Moe(0.02), 3, 16, 16, 10));
        model.eval();
        doubled.eval();
        using var scope = torch.NewDisposeScope();
        var images = Images(4, 3, 16);
        var output = model.Run(images, recordIntermediates: true);
        Assert.NotNull(output.Layers![0].Routing);
        Assert.Null(output.Layers[1].Routing);
        Assert.NotNull(output.Layers[2].Routing);
        Assert.NotNull(output.Layers[2].Metric);
        var balance = output.AuxiliaryLoss!.item<float>();
        Assert.InRange(balance, 1e-4, 1.0);
        Assert.Equal(2 * balance, doubled.Run(images).AuxiliaryLoss!.item<float>(), 5);

        var labels = torch.tensor(new long[] { 0, 1, 2, 3 });
        (nn.functional.cross_entropy(output.Logits, labels) + output.AuxiliaryLoss).backward();
        var routers = model.named_parameters().Where(p => p.name.Contains("router", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.NotEmpty(routers);
        Assert.All(routers, p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, p.name));
    }

    [Fact]
    public void SpecsRejectWhatTheModelsCannotTake()
    {
        var patch = Assert.Throws<ArgumentException>(() => VisionModelSpec.For(Vit() with { PatchSize = 5 }, 1, 28, 28, 10));
        Assert.Equal("Model.PatchSize", patch.ParamName);
        var stem = Assert.Throws<ArgumentException>(() => VisionModelSpec.For(new VisionModelOptions { Architecture = VisionArchitecture.Resnet18, Stem = ResNetStem.ImageNet }, 1, 28, 28, 10));
        Assert.Equal("Model.Stem", stem.ParamName);
        var heads = Assert.Throws<ArgumentException>(() => VisionModelSpec.For(Vit() with { Stack = Vit().Stack with { Heads = 3 } }, 1, 8, 8, 10));
        Assert.Equal("Model.Stack.Heads", heads.ParamName);
        var drop = Assert.Throws<ArgumentException>(() => VisionModelSpec.For(Vit(dropPath: 1), 1, 8, 8, 10));
        Assert.Equal("Model.Stack.DropPath", drop.ParamName);
    }
}
