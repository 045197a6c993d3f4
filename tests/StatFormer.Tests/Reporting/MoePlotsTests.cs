using StatFormer.Analysis;
using StatFormer.Reporting;
using StatFormer.Transformer;
using static TorchSharp.torch;

namespace StatFormer.Tests.Reporting;

public sealed class MoePlotsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("statformer-moeplots-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MoeDiagnostics Diagnostics(int topics)
    {
        manual_seed(4);
        const int n = 40, experts = 6;
        var accumulator = new MoeDiagnosticsAccumulator(3, experts, topics);
        var perLayer = Enumerable.Range(0, 3).Select(_ =>
        {
            var logits = randn(n, experts);
            // Expert 5 is never chosen, so one row of the topic confusion is empty.
            logits[.., 5] = tensor(-10f);
            return new MoeLayerRouting(logits.topk(2, dim: 1).indexes, logits, randn(n, 4));
        }).ToArray();
        accumulator.AddBatch(perLayer, topics > 0 ? Enumerable.Range(0, n).Select(i => i % topics).ToArray() : null);
        return accumulator.Result();
    }

    [Fact]
    public void ExpertLoadHeatmapWritesAPng()
    {
        var path = Path.Combine(_dir, "load.png");
        MoePlots.ExpertLoadHeatmap(path, Diagnostics(0), "Expert load");
        PlotsTests.AssertPlausiblePng(path, aloneInFolder: false);
    }

    [Fact]
    public void TopicConfusionHeatmapWritesAPng()
    {
        var path = Path.Combine(_dir, "topics.png");
        var d = Diagnostics(3);
        Assert.All(d.Layers[0].TopicConfusion![5], c => Assert.Equal(0, c));
        MoePlots.TopicConfusionHeatmap(path, d.Layers[0], "Routing vs topic, MoE layer 0");
        PlotsTests.AssertPlausiblePng(path, aloneInFolder: false);
    }

    [Fact]
    public void TopicConfusionHeatmapNeedsTopics()
    {
        var layer = Diagnostics(0).Layers[0];
        Assert.Equal("layer", Assert.Throws<ArgumentException>(() => MoePlots.TopicConfusionHeatmap(Path.Combine(_dir, "x.png"), layer, "t")).ParamName);
    }
}
