using StatFormer.Analysis;
using StatFormer.Moe;
using StatFormer.Reporting;
using StatFormer.Tests.Vision.Experiments;
using StatFormer.Transformer;
using StatFormer.Vision.Evaluation;
using StatFormer.Vision.Experiments;
using StatFormer.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Evaluation;

/// <summary>Routing diagnostics of MoE ViTs: hand-made routing with known purity / NMI through the seed aggregates, and the token → image-label mapping of a real model.</summary>
public sealed class VisionRoutingDiagnosticsTests
{
    // Four images of classes (0, 0, 1, 1), two tokens each, flattened image-major as the MoE layers see them.
    private static readonly int[] TokenClasses = [0, 0, 0, 0, 1, 1, 1, 1];

    private static MoeLayerRouting Top1(params long[] experts) =>
        new(tensor(experts).reshape(experts.Length, 1), zeros(experts.Length, 2), arange(experts.Length, dtype: ScalarType.Float32).reshape(experts.Length, 1));

    private static MoeDiagnostics Diagnostics(long[] layer0, long[] layer1)
    {
        var accumulator = new MoeDiagnosticsAccumulator(layers: 2, experts: 2, topics: 2);
        accumulator.AddBatch([Top1(layer0), Top1(layer1)], TokenClasses);
        return accumulator.Result();
    }

    [Fact]
    public void HandMadeRoutingGivesKnownPurityAndNmiPerLayerAndOverSeeds()
    {
        // Seed A: layer 0 routes by class (purity 1, NMI 1); layer 1 by token position, independent of class and of layer 0.
        var a = Diagnostics([0, 0, 0, 0, 1, 1, 1, 1], [0, 1, 0, 1, 0, 1, 0, 1]);
        // Seed B: layer 0 by class with the expert ids swapped; layer 1 puts 3 class-0 tokens on expert 0 and the rest on expert 1.
        var b = Diagnostics([1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1, 1]);
        Assert.Equal(0.5, a.Layers[1].TopicPurity!.Value, 12);
        Assert.Equal(0.0, a.Layers[1].TopicNmi!.Value, 12);
        Assert.Equal(0.0, a.StabilityNmi[0], 12);
        // Seed B, layer 1: table [[3, 0], [1, 4]] → purity 7/8; I = 3/8 ln 2 + 1/8 ln(8/20) + 4/8 ln(32/20), H(expert) of (3, 5)/8, H(class) = ln 2.
        var mutual = 3.0 / 8 * Math.Log(2) + 1.0 / 8 * Math.Log(0.4) + 0.5 * Math.Log(1.6);
        var expertEntropy = -(3.0 / 8 * Math.Log(3.0 / 8) + 5.0 / 8 * Math.Log(5.0 / 8));
        var nmiB = 2 * mutual / (expertEntropy + Math.Log(2));
        Assert.Equal(7.0 / 8, b.Layers[1].TopicPurity!.Value, 12);
        Assert.Equal(nmiB, b.Layers[1].TopicNmi!.Value, 12);

        var layers = VisionRoutingLayerAggregate.Of([a, b])!;
        Assert.Equal(2, layers.Count);
        Assert.Equal(1.0, layers[0].ClassPurity.Mean, 12);
        Assert.Equal(1.0, layers[0].ClassNmi.Mean, 12);
        Assert.Equal(0.0, layers[0].ClassNmi.Std, 12);
        Assert.Equal((0.5 + 7.0 / 8) / 2, layers[1].ClassPurity.Mean, 12);
        Assert.Equal((7.0 / 8 - 0.5) / Math.Sqrt(2), layers[1].ClassPurity.Std, 12);   // sample std of two values
        Assert.Equal(nmiB / 2, layers[1].ClassNmi.Mean, 12);
        Assert.Null(layers[1].StabilityNmiToNext);
        // Seed B: layer 1 against layer 0 is the same table transposed and relabelled as against the class.
        Assert.Equal(nmiB / 2, layers[0].StabilityNmiToNext!.Mean, 12);

        var overall = RoutingAggregate.Of([a, null, b])!;
        Assert.Equal(2, overall.TopicNmi!.N);
        Assert.Equal(((1 + 0.5) / 2 + (1 + 7.0 / 8) / 2) / 2, overall.TopicPurity!.Mean, 12);
        var (header, rows) = RoutingAggregate.Table([("dense", null), ("ac-smoe", overall)], "class")!.Value;
        Assert.Contains("class purity", header);
        Assert.Equal("ac-smoe", Assert.Single(rows)[0]);
        Assert.Null(RoutingAggregate.Of([null]));
        Assert.Null(VisionRoutingLayerAggregate.Of([a, null]));
    }

    [Fact]
    public void EveryTokenOfAnImageCarriesItsClassTheClassTokenIncluded()
    {
        using var data = LearnableImages.Create(train: 32, test: 40);
        var options = new VisionModelOptions
        {
            PatchSize = 4, Pooling = VisionPooling.Cls, Normalization = VisionNormalization.None,
            Stack = new TransformerStackOptions
            {
                Layers = 2, DModel = 16, Heads = 2, Dropout = 0, DropPath = 0, FfnMultiplier = 2,
                Moe = new MoeLayout { Router = MoeKind.AcSmoe, Every = 1, AcBaseLayers = 1, Layer = new MoeOptions { Experts = 4, TopK = 2, CapacityFactor = 0 } },
            },
        };
        var spec = VisionModelSpec.For(options, 1, 8, 8, data.Test.Classes);
        using var model = new VisionTransformer(spec);
        const int batch = 16;   // 40 images: batches of 16, 16 and 8
        var routing = VisionEvaluation.Routing(model, data.Test, batch)!;
        Assert.Equal(5, model.Tokens);   // 4 patches and the class token
        Assert.Equal(40 * 5, routing.Tokens);
        Assert.Equal(2, routing.Layers.Count);

        // Independent count: token row r of a batch belongs to image r / tokens of that batch.
        var expected = new long[2][,];
        for (var l = 0; l < 2; l++) expected[l] = new long[4, data.Test.Classes];
        model.eval();
        using (torch.no_grad())
            for (long start = 0; start < data.Test.Count; start += batch)
            {
                using var scope = torch.NewDisposeScope();
                var (images, labels) = data.Test.Batch(arange(start, Math.Min(start + batch, data.Test.Count), dtype: ScalarType.Int64));
                var classes = labels.data<long>().ToArray();
                var layers = model.Run(images, recordIntermediates: true).Layers!;
                for (var l = 0; l < 2; l++)
                {
                    var top1 = layers[l].Routing!.TopIndices.select(1, 0).data<long>().ToArray();
                    for (var row = 0; row < top1.Length; row++) expected[l][top1[row], classes[row / model.Tokens]]++;
                }
            }
        for (var l = 0; l < 2; l++)
        {
            var confusion = routing.Layers[l].TopicConfusion!;
            for (var e = 0; e < 4; e++)
                for (var c = 0; c < data.Test.Classes; c++) Assert.Equal(expected[l][e, c], confusion[e][c]);
            Assert.Equal(ClusteringAgreement.NormalizedMutualInformation(expected[l]), routing.Layers[l].TopicNmi!.Value, 12);
        }

        using var dense = new VisionTransformer(VisionModelSpec.For(options with { Stack = options.Stack with { Moe = new MoeLayout() } }, 1, 8, 8, data.Test.Classes));
        Assert.Null(VisionEvaluation.Routing(dense, data.Test, batch));
    }
}
