using StatFormer.Training;

namespace StatFormer.Tests.Training;

public class TrainingResultTests
{
    private static readonly MetricRecord[] Logged =
    [
        new(1, MetricRecord.TrainSplit, 2.0, 1e-3, 100, 1),
        new(2, MetricRecord.ValidSplit, 1.9, 1e-3, 0, 2),
        new(3, MetricRecord.TrainSplit, 1.8, 1e-3, 300, 3),
        new(4, MetricRecord.TrainSplit, 1.7, 1e-3, 0, 4),
    ];

    [Fact]
    public void Throughput_IsTheSessionsWhenItTrained_ElseTheMeanOfTheLoggedTrainRecords()
    {
        Assert.Equal(250, new TrainingResult(4, 1.7, null, null, false, 250, Logged).Throughput);
        // Resumed a finished run: nothing trained now, so the positive train records' mean (100 + 300) / 2.
        Assert.Equal(200, new TrainingResult(4, 1.7, null, null, false, 0, Logged).Throughput);
        Assert.Equal(0, new TrainingResult(0, 0, null, null, false, 0, []).Throughput);
    }

    [Fact]
    public void MetadataDifferences_NamesEachDifferingField()
    {
        Assert.Empty(Checkpoint.MetadataDifferences("""{"a":1,"b":"x"}""", """{"b":"x","a":1}"""));
        Assert.Equal(["a: 1 in the checkpoint, 2 now", "c: - in the checkpoint, true now"],
            Checkpoint.MetadataDifferences("""{"a":1,"b":"x"}""", """{"a":2,"b":"x","c":true}"""));
    }
}
