using StatFormer.Tests.Cli;
using StatFormer.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Training;

/// <summary>The TensorBoard event files every training run writes, read back from the format's specification.</summary>
[Collection(CliCollection.Name)]
public sealed class TensorBoardLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_training_run_writes_its_curves_histograms_and_expert_load_as_tensorboard_events()
    {
        var run = _dir.File("run");
        var train = Run(["lm", "train", "--data", "synthetic", "--attention", "elliptical", "--moe", "smoe", "--experts", "4", "--top-k", "2",
            "--out", run, "--json", .. Tiny(steps: 4)]);
        Assert.True(train.ExitCode == 0, train.ToString());

        var file = Assert.Single(Directory.GetFiles(run, TensorBoardLog.EventFilePrefix + "*"));
        var (version, values) = TensorBoardEventFile.Read(file);
        Assert.Equal("brain.Event:2", version);

        // The scalars are the values metrics.jsonl records (float32 in the event file).
        var records = MetricsLog.Read(Path.Combine(run, Trainer.MetricsFileName));
        void AssertCurve(string tag, IEnumerable<(long Step, double Value)> expected)
        {
            var curve = values.Where(v => v.Tag == tag).Select(v => (v.Step, Value: (double)v.Scalar!.Value)).ToList();
            var want = expected.ToList();
            Assert.True(want.Count > 0, tag);
            Assert.Equal(want.Select(w => w.Step), curve.Select(c => c.Step));
            Assert.All(want.Zip(curve), p => Assert.Equal((float)p.First.Value, (float)p.Second.Value));
        }
        var trainRecords = records.Where(r => r.Split == MetricRecord.TrainSplit).ToList();
        AssertCurve("train/loss", trainRecords.Select(r => (r.Step, r.Loss)));
        AssertCurve("train/learning_rate", trainRecords.Select(r => (r.Step, r.LearningRate)));
        AssertCurve("train/aux_loss", trainRecords.Select(r => (r.Step, r.AuxLoss!.Value)));
        AssertCurve("valid/loss", records.Where(r => r.Split == MetricRecord.ValidSplit).Select(r => (r.Step, r.Loss)));
        var norms = values.Where(v => v.Tag == "train/grad_norm").ToList();
        Assert.Equal(trainRecords.Select(r => r.Step), norms.Select(n => n.Step));
        Assert.All(norms, n => Assert.True(n.Scalar > 0 && float.IsFinite(n.Scalar!.Value)));

        // Validations at steps 2 and 4: one metric histogram per elliptical layer (all but layer 0), one load per expert and MoE layer.
        var histograms = values.Where(v => v.Tag.StartsWith("elliptical/", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "elliptical/layer1/metric" }, histograms.Select(h => h.Tag).Distinct());
        Assert.Equal(new long[] { 2, 4 }, histograms.Select(h => h.Step));
        Assert.All(histograms, h =>
        {
            Assert.True(h.HistogramCount > 0);
            Assert.Equal(h.HistogramCount, h.Buckets.Sum());
            Assert.True(h.HistogramMin > 0 && h.HistogramMin <= h.HistogramMax, "the metric is positive");
        });
        foreach (var layer in new[] { 0, 1 })
        {
            foreach (var step in new long[] { 2, 4 })
            {
                var load = values.Where(v => v.Step == step && v.Tag.StartsWith($"moe/layer{layer}/expert_load/", StringComparison.Ordinal)).ToList();
                Assert.Equal(Enumerable.Range(0, 4).Select(e => $"moe/layer{layer}/expert_load/{e}"), load.Select(l => l.Tag));
                Assert.Equal(1.0, load.Sum(l => (double)l.Scalar!.Value), 5);
            }
        }

        // --overwrite removes the old event file with the run's other files.
        Assert.Equal(0, Run(["lm", "train", "--data", "synthetic", "--out", run, "--overwrite", "--json", .. Tiny(steps: 2)]).ExitCode);
        Assert.NotEqual(file, Assert.Single(Directory.GetFiles(run, TensorBoardLog.EventFilePrefix + "*")));
    }
}
