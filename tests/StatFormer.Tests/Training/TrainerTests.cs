using StatFormer.Attention;
using StatFormer.Language.Models;
using StatFormer.Training;
using TorchSharp;
using Xunit.Abstractions;
using static StatFormer.Tests.Training.TensorAssert;

namespace StatFormer.Tests.Training;

[Collection(TrainingTestCollection.Name)]
public class TrainerTests(ITestOutputHelper output)
{
    private const int Batch = 4, Seq = 16;

    [Fact]
    public void TinyModelOverfitsRepeatedText()
    {
        var corpus = CharCorpus.Repeated("the cat sat on the mat. ", 40);
        using var dir = new TempDir();
        using var model = TinyTransformer.Create(TinyTransformer.Config(corpus.VocabSize));
        var options = new TrainOptions
        {
            Steps = 150, LearningRate = 1e-2, MinLearningRate = 1e-3, WarmupSteps = 10, WeightDecay = 0.0,
            EvalEvery = 50, LogEvery = 10,
        };
        var trainer = new Trainer(model, options, s => corpus.Batch(s, Batch, Seq), () => corpus.ValidationLoss(model, Batch, Seq), dir.Path, "{}");
        var liveTensors = new Dictionary<long, long>();
        var countTensors = new InlineProgress<TrainingProgress>(p => liveTensors[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        var result = trainer.Run(countTensors);

        var unigram = corpus.UnigramEntropy();
        output.WriteLine($"unigram entropy {unigram:F4}, final train loss {result.FinalTrainLoss:F4}, best valid {result.BestValidLoss:F4}, {result.TokensPerSecond:F0} tokens/s");
        Assert.Equal(150, result.StepsCompleted);
        Assert.True(result.FinalTrainLoss < 0.5 * unigram, $"final loss {result.FinalTrainLoss} vs unigram entropy {unigram}");
        Assert.True(result.BestValidLoss < 0.5 * unigram, $"valid loss {result.BestValidLoss} vs unigram entropy {unigram}");
        Assert.True(File.Exists(dir.File(Trainer.CheckpointFileName)));
        Assert.True(File.Exists(dir.File(Trainer.BestModelFileName)));
        Assert.Equal(liveTensors[20], liveTensors[150]); // no tensor survives a step
    }

    private sealed class SimulatedCrash : Exception;

    /// <summary>Every scalar of a run folder's event files, oldest file first, read back independently of the writer.</summary>
    private static List<(long Step, string Tag, float Value)> Events(string folder) =>
        TensorBoardRecords.Files(folder).SelectMany(f => TensorBoardEventFile.Read(f).Values)
            .Where(v => v.Scalar is not null && v.Tag != "train/items_per_second").Select(v => (v.Step, v.Tag, v.Scalar!.Value)).ToList();

    /// <param name="crash">
    /// false: cancel after step 15 (checkpoint written at 15). true: die after step 17, so the last
    /// checkpoint is the evaluation at 10, metrics.jsonl runs ahead to 17 and ends in a torn line.
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumeReproducesTheUninterruptedRunExactly(bool crash)
    {
        var corpus = CharCorpus.Repeated("statistics is the grammar of science. ", 20);
        var options = new TrainOptions
        {
            Steps = 30, LearningRate = 1e-2, MinLearningRate = 1e-3, WarmupSteps = 5, EvalEvery = 10, LogEvery = 1, Seed = 7,
        };
        // Dropout exercises the saved RNG state; elliptical attention the heaviest layer path.
        var config = TinyTransformer.Config(corpus.VocabSize, AttentionKind.Elliptical, dropout: 0.2);
        var metadata = config.ToJson();

        using var straightDir = new TempDir();
        using var straightModel = TinyTransformer.Create(config);
        var straight = new Trainer(straightModel, options, s => corpus.Batch(s, Batch, Seq),
            () => corpus.ValidationLoss(straightModel, Batch, Seq), straightDir.Path, metadata).Run();

        using var resumedDir = new TempDir();
        using (var firstModel = TinyTransformer.Create(config))
        using (var cancel = new CancellationTokenSource())
        {
            var first = new Trainer(firstModel, options, s => corpus.Batch(s, Batch, Seq),
                () => corpus.ValidationLoss(firstModel, Batch, Seq), resumedDir.Path, metadata);
            if (crash)
            {
                var dieAt17 = new InlineProgress<TrainingProgress>(p => { if (p.Step == 17) throw new SimulatedCrash(); });
                Assert.Throws<SimulatedCrash>(() => first.Run(dieAt17));
                File.AppendAllText(resumedDir.File(Trainer.MetricsFileName), "{\"step\":18,\"spl");
                // The event file too ends in a torn record (a length and half a payload).
                using (var events = File.Open(Assert.Single(TensorBoardRecords.Files(resumedDir.Path)), FileMode.Append))
                    events.Write([40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
            }
            else
            {
                var stopAt15 = new InlineProgress<TrainingProgress>(p => { if (p.Step == 15) cancel.Cancel(); });
                Assert.Throws<OperationCanceledException>(() => first.Run(stopAt15, cancellationToken: cancel.Token));
            }
        }
        var checkpointPath = resumedDir.File(Trainer.CheckpointFileName);
        using (var probe = TinyTransformer.Create(config))
            Assert.Equal(crash ? 10 : 15, Checkpoint.Load(checkpointPath, probe).Step);

        // As the CLI does: rebuild the model from the checkpoint's metadata (different init, overwritten by the weights).
        using var secondModel = TinyTransformer.Create(LmConfig.FromJson(Checkpoint.ReadMetadata(checkpointPath)), seed: 99);
        torch.manual_seed(12345); // the resumed run must not depend on the generator's state before it
        var resumed = new Trainer(secondModel, options, s => corpus.Batch(s, Batch, Seq),
            () => corpus.ValidationLoss(secondModel, Batch, Seq), resumedDir.Path, metadata).Run(resume: true);

        Assert.Equal(30, resumed.StepsCompleted);
        Assert.Equal(straight.FinalTrainLoss, resumed.FinalTrainLoss);
        Assert.Equal(straight.BestValidLoss, resumed.BestValidLoss);
        Assert.Equal(straight.BestStep, resumed.BestStep);

        var straightLines = ReadLosses(straightDir.File(Trainer.MetricsFileName));
        var resumedLines = ReadLosses(resumedDir.File(Trainer.MetricsFileName));
        Assert.Equal(30 + 3, straightLines.Count); // 30 train records + valid at 10, 20, 30
        Assert.Equal(straightLines, resumedLines);
        Assert.Equal(straightLines, resumed.History.Select(r => (r.Step, r.Split, r.Loss, r.LearningRate)).ToList());

        // TensorBoard: the resumed run's event files (the first cut back to the checkpoint, then the resumed session's) hold
        // exactly the uninterrupted run's records, each step once, in order. Throughput is a wall-clock figure, left out.
        var straightEvents = Events(straightDir.Path);
        Assert.Single(TensorBoardRecords.Files(straightDir.Path));
        Assert.Equal(2, TensorBoardRecords.Files(resumedDir.Path).Count);
        Assert.Equal(30 * 3 + 3, straightEvents.Count);   // loss, learning rate, gradient norm per step; validation loss at 10, 20, 30
        Assert.Equal(straightEvents, Events(resumedDir.Path));

        var straightWeights = straightModel.state_dict();
        foreach (var (name, weight) in secondModel.state_dict())
            Assert.True(SameTensor(weight, straightWeights[name]), $"weights of {name} differ");
    }

    [Fact]
    public void MetricsLinesUseSnakeCaseKeys()
    {
        var corpus = CharCorpus.Repeated("abcd ", 50);
        using var dir = new TempDir();
        using var model = TinyLm.Create(corpus.VocabSize, 8);
        new Trainer(model, new TrainOptions { Steps = 4, WarmupSteps = 1, LogEvery = 2, EvalEvery = 4 },
            s => corpus.Batch(s, Batch, Seq), () => 1.5, dir.Path, "{}").Run();

        var lines = File.ReadAllLines(dir.File(Trainer.MetricsFileName));
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("{\"step\":2,\"split\":\"train\",\"loss\":", lines[0]);
        Assert.Contains("\"lr\":", lines[0]);
        Assert.Contains("\"tokens_per_second\":", lines[0]);
        Assert.Contains("\"elapsed_seconds\":", lines[0]);
        Assert.StartsWith("{\"step\":4,\"split\":\"valid\",\"loss\":1.5,", lines[2]);
    }

    [Fact]
    public void EarlyStoppingAfterPatienceEvaluationsWithoutImprovement()
    {
        var corpus = CharCorpus.Repeated("abcd ", 50);
        using var dir = new TempDir();
        using var model = TinyLm.Create(corpus.VocabSize, 8);
        var scripted = new Queue<double>([5.0, 4.0, 4.5, 4.2, 4.0, 3.0, 2.0]);
        var options = new TrainOptions { Steps = 100, WarmupSteps = 2, EvalEvery = 2, EarlyStoppingPatience = 3, LogEvery = 50 };
        var trainer = new Trainer(model, options, s => corpus.Batch(s, Batch, Seq), scripted.Dequeue, dir.Path, "{}");

        var result = trainer.Run();

        // Evaluations at steps 2, 4 (best), 6, 8, 10: three without improvement (4.0 ties do not count) → stop at 10.
        Assert.True(result.StoppedEarly);
        Assert.Equal(10, result.StepsCompleted);
        Assert.Equal(4.0, result.BestValidLoss);
        Assert.Equal(4, result.BestStep);
        Assert.Equal(2, scripted.Count);
        Assert.True(File.Exists(dir.File(Trainer.BestModelFileName)));

        // Resuming a run that stopped early does not train further.
        var again = new Trainer(model, options, s => corpus.Batch(s, Batch, Seq), scripted.Dequeue, dir.Path, "{}").Run(resume: true);
        Assert.True(again.StoppedEarly);
        Assert.Equal(10, again.StepsCompleted);
        Assert.Equal(2, scripted.Count);
    }

    [Fact]
    public void RepeatedStepsDoNotGrowNativeMemoryOrLiveTensors()
    {
        var corpus = CharCorpus.Repeated("memory must stay flat. ", 30);
        using var dir = new TempDir();
        // The stand-in model keeps this at a few seconds; the real model's tensors are counted in the overfit test.
        using var model = TinyLm.Create(corpus.VocabSize, 32, dropout: 0.1);
        var samples = new Dictionary<long, (long Rss, long LiveTensors)>();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step is 20 or 220) samples[p.Step] = (SettledRss(), DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        });
        var options = new TrainOptions { Steps = 240, WarmupSteps = 5, EvalEvery = 1000, LogEvery = 20, LearningRate = 1e-3 };

        new Trainer(model, options, s => corpus.Batch(s, Batch, Seq), null, dir.Path, "{}").Run(progress);

        var growth = samples[220].Rss - samples[20].Rss;
        output.WriteLine($"RSS {samples[20].Rss / 1e6:F1} → {samples[220].Rss / 1e6:F1} MB, live tensors {samples[20].LiveTensors} → {samples[220].LiveTensors}");
        Assert.True(growth < 20L << 20, $"RSS grew by {growth / 1e6:F1} MB over 200 steps");
        Assert.Equal(samples[20].LiveTensors, samples[220].LiveTensors);
    }

    private static long SettledRss()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        var residentPages = long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]);
        return residentPages * Environment.SystemPageSize;
    }

    private static List<(long Step, string Split, double Loss, double LearningRate)> ReadLosses(string path) =>
        File.ReadLines(path).Select(line =>
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var r = doc.RootElement;
            return (r.GetProperty("step").GetInt64(), r.GetProperty("split").GetString()!, r.GetProperty("loss").GetDouble(), r.GetProperty("lr").GetDouble());
        }).ToList();
}
