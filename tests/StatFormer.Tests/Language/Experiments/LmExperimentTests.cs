using System.Text.Json;
using StatFormer.Attention;
using StatFormer.IO;
using StatFormer.Language.Data;
using StatFormer.Language.Experiments;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;
using StatFormer.Training;

namespace StatFormer.Tests.Language.Experiments;

[Collection(CliCollection.Name)]
public sealed class LmExperimentTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Dropout on, so that resuming must also restore the random generator to match.
    private static readonly LmRunOptions d = new();

    private static LmRunOptions Tiny(string outDir) => d with
    {
        Data = d.Data with { Source = LmDataset.Synthetic, Tokenizer = "word", BatchSize = 4 },
        Model = d.Model with { SeqLen = 16, Stack = d.Model.Stack with { Attention = AttentionKind.Elliptical, Layers = 2, DModel = 16, Heads = 2, Dropout = 0.1 } },
        Train = d.Train with { Steps = 30, WarmupSteps = 5, LearningRate = 3e-3, EvalEvery = 10, Seed = 7 },
        Eval = d.Eval with { ValidTokens = 256, EvalTokens = 512 },
        Attack = d.Attack with { Rates = [0.1] },
        Output = d.Output with { OutDir = outDir },
    };

    private static LmRunOptions Resumed(LmRunOptions o, string? outDir = null) => o with { Output = o.Output with { Resume = true, OutDir = outDir ?? o.Output.OutDir } };

    private static LmRunOptions Short(LmRunOptions o, int steps) => o with { Train = o.Train with { Steps = steps, EvalEvery = 2 } };

    private static List<(long Step, double Loss)> TrainLosses(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, Trainer.MetricsFileName)).Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            return (Step: e.GetProperty("step").GetInt64(), Split: e.GetProperty("split").GetString(), Loss: e.GetProperty("loss").GetDouble());
        }).Where(r => r.Split == "train").Select(r => (r.Step, r.Loss)).ToList();

    [Fact]
    public void CancelledThenResumedRunEqualsUninterruptedRun()
    {
        var straightDir = _dir.File("straight");
        var (straight, _) = LmExperiment.Run(Tiny(straightDir));
        Assert.Equal(30, straight.Steps);

        var resumedDir = _dir.File("resumed");
        using var cancel = new CancellationTokenSource();
        var reported = new List<long>();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            reported.Add(p.Step);
            if (p.Step == 15) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => LmExperiment.Run(Tiny(resumedDir), progress, cancellationToken: cancel.Token));
        Assert.Equal(15, reported.Max());
        Assert.True(File.Exists(Path.Combine(resumedDir, Trainer.CheckpointFileName)));
        Assert.False(File.Exists(Path.Combine(resumedDir, LmExperiment.SummaryFileName)), "an interrupted run has no summary");
        Assert.Equal(15, TrainLosses(resumedDir).Max(r => r.Step));

        var (resumed, training) = LmExperiment.Run(Resumed(Tiny(resumedDir)));
        Assert.Equal(30, resumed.Steps);
        Assert.Equal(30, training.StepsCompleted);
        Assert.Equal(straight.ValidPpl, resumed.ValidPpl);
        Assert.Equal(straight.TestPpl, resumed.TestPpl);
        Assert.Equal(straight.AttackedTestPpl, resumed.AttackedTestPpl);
        Assert.Equal(straight.FinalTrainLoss, resumed.FinalTrainLoss);
        Assert.Equal(straight.BestStep, resumed.BestStep);
        var straightLosses = TrainLosses(straightDir);
        Assert.Equal(Enumerable.Range(1, 30).Select(s => (long)s), straightLosses.Select(r => r.Step));
        Assert.Equal(straightLosses, TrainLosses(resumedDir));
    }

    [Fact]
    public void ResumingAFinishedRunReportsTheSameNumbersAndARealThroughput()
    {
        var options = Short(Tiny(_dir.File("done")), 4);
        var (first, _) = LmExperiment.Run(options);
        var (again, training) = LmExperiment.Run(Resumed(options));
        Assert.Equal(4, again.Steps);
        Assert.Equal(0, training.TokensPerSecond); // nothing was trained in that session ...
        Assert.True(again.TokensPerSecond > 0, "... but the summary still reports the run's throughput, not 0");
        Assert.Equal(first.TestPpl, again.TestPpl);
        Assert.Equal(first.AttackedTestPpl, again.AttackedTestPpl);
    }

    [Theory]
    [InlineData("attention")]
    [InlineData("d_model")]
    public void ResumingAnotherRunsFolderIsRefused(string change)
    {
        var shortRun = Short(Tiny(_dir.File("other")), 2);
        var options = shortRun with { Model = shortRun.Model with { Stack = shortRun.Model.Stack with { Attention = AttentionKind.Softmax } } };
        LmExperiment.Run(options);
        var checkpoint = Path.Combine(options.Output.OutDir, Trainer.CheckpointFileName);
        var written = File.GetLastWriteTimeUtc(checkpoint);
        var changed = options with { Model = options.Model with { Stack = change == "attention" ? options.Model.Stack with { Attention = AttentionKind.Elliptical } : options.Model.Stack with { DModel = 32 } } };
        var e = Assert.Throws<RunFolderConflictException>(() => LmExperiment.Run(Resumed(changed)));
        Assert.Contains(change, e.Message);
        Assert.Contains(checkpoint, e.Message);
        Assert.Equal(written, File.GetLastWriteTimeUtc(checkpoint));
    }

    [Fact]
    public void ResumeWithoutCheckpointStartsFresh()
    {
        var options = Short(Tiny(_dir.File("fresh")), 4);
        var (plain, _) = LmExperiment.Run(options);
        var (resumed, _) = LmExperiment.Run(Resumed(options, _dir.File("fresh-resume")));
        Assert.Equal(plain.TestPpl, resumed.TestPpl);
        Assert.Equal(4, resumed.Steps);
    }
}
