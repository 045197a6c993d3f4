using StatFormer.Training;

namespace StatFormer.Tests.Training;

public class LearningRateScheduleTests
{
    private static readonly TrainOptions Options = new()
    {
        LearningRate = 1e-3, MinLearningRate = 1e-4, WarmupSteps = 10, Steps = 110,
    };

    [Theory]
    [InlineData(0, 1e-4)]     // (0+1)/10 of the peak
    [InlineData(4, 5e-4)]
    [InlineData(9, 1e-3)]     // warm-up ends at the peak
    [InlineData(10, 1e-3)]    // cosine starts at the peak
    [InlineData(35, 8.681980515339464e-4)] // 1e-4 + 4.5e-4·(1 + cos(π/4))
    [InlineData(60, 5.5e-4)]  // half-way: midpoint of peak and floor
    [InlineData(110, 1e-4)]   // floor at Steps
    [InlineData(500, 1e-4)]   // stays at the floor past Steps
    public void ValuesAtHandComputedSteps(long step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.At(step, Options), 1e-15);

    [Fact]
    public void WarmupIsLinear()
    {
        var slope = LearningRateSchedule.At(1, Options) - LearningRateSchedule.At(0, Options);
        for (var s = 1; s < Options.WarmupSteps; s++)
            Assert.Equal(slope, LearningRateSchedule.At(s, Options) - LearningRateSchedule.At(s - 1, Options), 1e-15);
    }

    [Fact]
    public void DecaysMonotonicallyAfterWarmup()
    {
        for (var s = Options.WarmupSteps + 1; s <= Options.Steps; s++)
            Assert.True(LearningRateSchedule.At(s, Options) < LearningRateSchedule.At(s - 1, Options), $"step {s}");
    }

    [Fact]
    public void NoWarmupStartsAtThePeak() =>
        Assert.Equal(1e-3, LearningRateSchedule.At(0, Options with { WarmupSteps = 0 }), 1e-15);
}
