using System.Text.Json;
using StatFormer.Attention;
using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Options;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Models;

/// <summary>MoE layers inside the language model, its trainer and its evaluation.</summary>
[Collection(CliCollection.Name)]
public sealed class MoeLanguageModelTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly LmRunOptions d = new();

    private static LmRunOptions Tiny(MoeKind moe, string outDir) => d with
    {
        Data = d.Data with { Source = LmDataset.Synthetic, Tokenizer = "word", BatchSize = 8 },
        Model = d.Model with
        {
            SeqLen = 16,
            Stack = d.Model.Stack with { Layers = 3, DModel = 16, Heads = 2, Dropout = 0.1, Moe = new() { Router = moe, Layer = new() { Experts = 4, TopK = 2 } } },
        },
        Train = d.Train with { Steps = 40, WarmupSteps = 5, LearningRate = 5e-3, EvalEvery = 20, Seed = 3 },
        Eval = d.Eval with { ValidTokens = 512, EvalTokens = 1024 },
        Attack = d.Attack with { Rates = [0.1] },
        Output = d.Output with { OutDir = outDir },
    };

    private static LmRunOptions In(LmRunOptions o, string outDir, bool resume = false) => o with { Output = o.Output with { OutDir = outDir, Resume = resume } };

    private static List<(long Step, double Loss, double? Aux)> TrainRecords(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, Trainer.MetricsFileName)).Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            double? aux = e.TryGetProperty("aux_loss", out var a) ? a.GetDouble() : null;
            return (Step: e.GetProperty("step").GetInt64(), Split: e.GetProperty("split").GetString(), Loss: e.GetProperty("loss").GetDouble(), Aux: aux);
        }).Where(r => r.Split == "train").Select(r => (r.Step, r.Loss, r.Aux)).ToList();

    [Theory]
    [InlineData(MoeKind.Smoe)]
    [InlineData(MoeKind.Xmoe)]
    [InlineData(MoeKind.AcSmoe)]
    [InlineData(MoeKind.AcXmoe)]
    public void SmallMoeLanguageModelTrainsWithEveryRouter(MoeKind moe)
    {
        var dir = _dir.File(EnumNames.Cli(moe));
        var (summary, _) = LmExperiment.Run(Tiny(moe, dir));
        var records = TrainRecords(dir);
        var first = records.Take(3).Average(r => r.Loss);
        var last = records.TakeLast(3).Average(r => r.Loss);
        Assert.True(last < first - 0.3, $"{moe}: train loss {first:F3} → {last:F3} did not fall");
        // The balance loss is part of the objective and logged: weight 0.01 × 3 MoE layers × E·Σ f_e·p_e,
        // which lies in (0, E] per layer (Σ f_e = Σ p_e = 1, and every chosen expert has p_e > 0).
        Assert.All(records, r => Assert.True(r.Aux is > 0 and <= 0.03 * 4 + 1e-6, $"aux_loss {r.Aux}"));
        Assert.Equal(EnumNames.Cli(moe), summary.Moe);
        Assert.Equal(EnumNames.Cli(moe), summary.Variant);
        var routing = Assert.IsType<StatFormer.Analysis.MoeDiagnostics>(summary.Routing);
        Assert.Equal(3, routing.Layers.Count);
        Assert.All(routing.Layers, l => Assert.Equal(1.0, l.Load.Sum(), 6));
        // Synthetic data: routing is compared with the generator's latent topic.
        Assert.NotNull(routing.MeanTopicNmi);
        Assert.NotNull(routing.Layers[0].TopicConfusion);
    }

    [Fact]
    public void DenseModelLogsNoAuxiliaryLoss()
    {
        var dir = _dir.File("dense");
        var dense = Tiny(MoeKind.None, dir);
        var (summary, _) = LmExperiment.Run(dense with { Train = dense.Train with { Steps = 4 } });
        Assert.All(TrainRecords(dir), r => Assert.Null(r.Aux));
        Assert.Null(summary.Routing);
        Assert.Equal("softmax", summary.Variant);
    }

    [Fact]
    public void CancelledThenResumedAcRunEqualsUninterruptedRun()
    {
        var tiny = Tiny(MoeKind.AcXmoe, _dir.File("straight"));
        var options = tiny with { Train = tiny.Train with { Steps = 20, EvalEvery = 10 }, Model = tiny.Model with { Stack = tiny.Model.Stack with { Attention = AttentionKind.Elliptical } } };
        var (straight, _) = LmExperiment.Run(options);

        var resumedDir = _dir.File("resumed");
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step == 10) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => LmExperiment.Run(In(options, resumedDir), progress, cancellationToken: cancel.Token));
        var (resumed, _) = LmExperiment.Run(In(options, resumedDir, resume: true));
        Assert.Equal(straight.TestPpl, resumed.TestPpl);
        Assert.Equal(straight.FinalTrainLoss, resumed.FinalTrainLoss);
        Assert.Equal(TrainRecords(options.Output.OutDir), TrainRecords(resumedDir));
        Assert.Equal(StatFormer.Reporting.JsonOutput.Serialize(straight.Routing), StatFormer.Reporting.JsonOutput.Serialize(resumed.Routing));
        Assert.Equal("elliptical+ac-xmoe", resumed.Variant);
    }

    private static TransformerLm GlamModel()
    {
        var config = new LmConfig { VocabSize = 20, SeqLen = 8, Stack = new() { Layers = 5, DModel = 16, Heads = 2, Dropout = 0, Moe = new() { Router = MoeKind.AcSmoe, Every = 2, Layer = new() { Experts = 4 } } } };
        Assert.Equal(new[] { 0, 2, 4 }, config.Stack.MoeLayers);
        Assert.Equal(new[] { MoeKind.Smoe, MoeKind.AcSmoe, MoeKind.AcSmoe }, config.Stack.MoeLayerKinds);
        torch.manual_seed(1);
        return new TransformerLm(config);
    }

    [Fact]
    public void GlamLayoutPutsMoeInEveryOtherBlockAndTheAuxiliaryLossIsTheWeightedSumOfTheLayersBalanceLosses()
    {
        using var model = GlamModel();
        Assert.NotNull(model.Stack.Blocks[0].MixtureOfExperts);
        Assert.NotNull(model.Stack.Blocks[1].FeedForward);
        Assert.Null(model.Stack.Blocks[1].MixtureOfExperts);
        Assert.IsType<AdaptiveClusteringRouter>(model.Stack.Blocks[2].MixtureOfExperts!.Router);
        Assert.IsNotType<AdaptiveClusteringRouter>(model.Stack.Blocks[0].MixtureOfExperts!.Router);
        using var scope = torch.NewDisposeScope();
        model.eval();                              // frozen AC statistics: both forwards below route identically
        var ids = torch.randint(0, 20, new long[] { 2, 8 });
        var output = model.Run(ids, recordIntermediates: true);
        var routing = output.Layers!.Select(l => l.Routing).OfType<MoeLayerRouting>().ToList();
        Assert.Equal(new long[] { 2, 8, 20 }, output.Logits.shape);
        Assert.Equal(3, routing.Count);
        Assert.All(routing, r => Assert.Equal(new long[] { 16, 2 }, r.TopIndices.shape));
        var aux = model.Run(ids).AuxiliaryLoss;
        Assert.NotNull(aux);
        var expected = routing.Sum(r => LoadBalanceLoss.Compute(r.RouterLogits, r.TopIndices, 4).item<float>()) * 0.01;
        Assert.Equal(expected, aux!.item<float>(), 5);
        aux.backward();
        // The balance loss reaches the routers of every MoE layer.
        Assert.All(new[] { 0, 2, 4 }, b => Assert.Contains(model.Stack.Blocks[b].MixtureOfExperts!.Router.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void GlamAcLayersClusterOnTheMostRecentMoeLayersRouting()
    {
        // One training forward copies each AC layer's cluster counts into its running statistics, so those
        // counts show which layer's routing the layer received: block 4 must get block 2's, not block 0's.
        using var model = GlamModel();
        using var scope = torch.NewDisposeScope();
        model.train();
        var ids = torch.randint(0, 20, new long[] { 4, 8 }, generator: new Generator(3));
        IReadOnlyList<MoeLayerRouting> routing;
        using (torch.no_grad()) routing = model.Run(ids, recordIntermediates: true).Layers!.Select(l => l.Routing).OfType<MoeLayerRouting>().ToList();
        Tensor Top1Counts(int layer) => torch.bincount(routing[layer].TopIndices.select(1, 0), minlength: 4).to(ScalarType.Float32);
        Assert.False(Top1Counts(0).eq(Top1Counts(1)).all().item<bool>(), "precondition: blocks 0 and 2 must route differently");
        var block2 = (AdaptiveClusteringRouter)model.Stack.Blocks[2].MixtureOfExperts!.Router;
        var block4 = (AdaptiveClusteringRouter)model.Stack.Blocks[4].MixtureOfExperts!.Router;
        Assert.True(block2.RunningCount.eq(Top1Counts(0)).all().item<bool>(), "block 2 clusters on block 0's routing");
        Assert.True(block4.RunningCount.eq(Top1Counts(1)).all().item<bool>(), "block 4 clusters on block 2's routing");
    }

    [Theory]
    [InlineData(MoeKind.Xmoe)]
    [InlineData(MoeKind.AcXmoe)]
    public void MoeLayersAreInitialisedLikeTheDenseFfnAndKeepXmoesOrthogonalEmbeddings(MoeKind moe)
    {
        torch.manual_seed(4);
        using var model = new TransformerLm(new LmConfig { VocabSize = 50, SeqLen = 8, Stack = new() { Layers = 3, DModel = 64, Heads = 2, Moe = new() { Router = moe, Layer = new() { Experts = 8, XmoeDim = 8 } } } });
        var residualStd = 0.02 / Math.Sqrt(2.0 * 3);
        foreach (var block in model.Stack.Blocks)
        {
            var layer = block.MixtureOfExperts!;
            Assert.True(layer.ExpertInputBias.eq(0).all().item<bool>() && layer.ExpertOutputBias.eq(0).all().item<bool>(), "expert biases must start at 0, like the dense FFN's");
            Assert.Equal(0.02, layer.ExpertInputWeight.std().item<float>(), 2);
            Assert.Equal(residualStd, layer.OutputProjectionWeight.std().item<float>(), 3);
            var cosine = layer.Router as CosineRouter ?? (CosineRouter)((AdaptiveClusteringRouter)layer.Router).BaseRouter;
            // Orthogonal with gain 0.32 (square here): EᵀE = 0.32²·I, which N(0, 0.02) would not give.
            using var gram = cosine.ExpertEmbeddings.t().matmul(cosine.ExpertEmbeddings);
            Assert.True(gram.allclose(eye(8) * (0.32f * 0.32f), rtol: 0, atol: 1e-5), "XMoE's expert embeddings lost their orthogonal initialisation");
            Assert.Equal(0.02, cosine.Projection.weight!.std().item<float>(), 2);
        }
    }

    [Theory]
    [InlineData(MoeKind.AcSmoe, 1, 2, 4, 1, "no layer would use the AC router", "Stack.Moe.AcBaseLayers")]
    [InlineData(MoeKind.AcSmoe, 3, 2, 4, 0, "AcBaseLayers", "Stack.Moe.AcBaseLayers")]
    [InlineData(MoeKind.Smoe, 3, 5, 4, 1, "TopK", "Stack.Moe.Layer.TopK")]
    public void BadMoeConfigurationIsAClearError(MoeKind moe, int layers, int topK, int experts, int acBaseLayers, string expected, string path)
    {
        var config = new LmConfig { VocabSize = 20, Stack = new() { Layers = layers, DModel = 16, Heads = 2, Moe = new() { Router = moe, AcBaseLayers = acBaseLayers, Layer = new() { TopK = topK, Experts = experts } } } };
        var error = Assert.ThrowsAny<ArgumentException>(config.Validate);
        Assert.Contains(expected, error.Message);
        Assert.Equal(path, error.ParamName);
    }

    [Fact]
    public void ConfigWithMoeRoundTripsThroughJsonAndOldConfigsStayDense()
    {
        var config = new LmConfig { VocabSize = 30, Stack = new() { Moe = new() { Router = MoeKind.AcXmoe, Every = 2, BalanceWeight = 0.02, AcBaseLayers = 1, Layer = new() { Experts = 6, TopK = 1, CapacityFactor = 1.25 } } } };
        Assert.Equal(config, LmConfig.FromJson(config.ToJson()));
        Assert.Contains("\"router\":\"ac_xmoe\"", config.ToJson());
        var old = LmConfig.FromJson("{\"vocab_size\":30,\"layers\":2,\"d_model\":16,\"heads\":2,\"seq_len\":8}");
        Assert.Equal(MoeKind.None, old.Stack.Moe.Router);
        Assert.Empty(old.Stack.MoeLayers);
    }

    [Fact]
    public void TestTopicsLabelEveryTestTokenOfTheSyntheticCorpus()
    {
        var data = LmDataset.Load(LmDataset.Synthetic, "word");
        var sets = EvaluationSets.Build(data, new LmRunOptions { Attack = new() { Rates = [] } });
        var topics = Assert.IsType<int[]>(sets.TestTopics);
        Assert.Equal(sets.Test.Length, topics.Length);
        Assert.Equal(4, sets.TopicCount);
        // A topic word only ever appears in lines of its own topic.
        var synthetic = data.SyntheticCorpus!;
        for (var t = 0; t < synthetic.TopicWords.Count; t++)
        {
            var ids = synthetic.TopicWords[t].Select(w => (long)data.Tokenizer.Encode(w)[0]).ToHashSet();
            for (var i = 0; i < topics.Length; i++)
                if (ids.Contains(sets.Test[i])) Assert.Equal(t, topics[i]);
        }
    }
}
