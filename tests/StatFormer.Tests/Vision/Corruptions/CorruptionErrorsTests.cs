using StatFormer.Vision.Corruptions;

namespace StatFormer.Tests.Vision.Corruptions;

public sealed class CorruptionErrorsTests
{
    private static CorruptionResult Result(double clean, params (string Name, bool Extra, double[] Accuracy)[] curves) =>
        new("cifar10-c", 100, 0, clean, 0, curves.Select(c => new CorruptionCurve(c.Name, c.Extra,
            c.Accuracy.Select((a, s) => new SeverityResult(s + 1, a, 0)).ToList())).ToList(), null, null, [], []);

    [Fact]
    public void CeAndRelativeCeFollowHendrycksDefinitions()
    {
        // Model: clean error 0.1; fog errors 0.2, 0.4 (sum 0.6); noise errors 0.3, 0.3 (sum 0.6); saturate (extra) 0.5, 0.5.
        // Reference: clean error 0.2; fog 0.4, 0.8 (sum 1.2); noise 0.2, 0.4 (sum 0.6); saturate 0.25, 0.25.
        var model = Result(0.9, ("fog", false, [0.8, 0.6]), ("gaussian-noise", false, [0.7, 0.7]), ("saturate", true, [0.5, 0.5]));
        var reference = Result(0.8, ("fog", false, [0.6, 0.2]), ("gaussian-noise", false, [0.8, 0.6]), ("saturate", true, [0.75, 0.75]));
        var result = CorruptionErrors.Of(model, reference, "softmax");
        // CE: fog 0.6/1.2 = 50 %, noise 0.6/0.6 = 100 %; mCE (extras out) 75. Saturate 1.0/0.5 = 200 %.
        Assert.Equal(50, result.Corruptions[0].Ce!.Value, 9);
        Assert.Equal(100, result.Corruptions[1].Ce!.Value, 9);
        Assert.Equal(200, result.Corruptions[2].Ce!.Value, 9);
        Assert.Equal(75, result.MeanCe!.Value, 9);
        // Relative: fog (0.1 + 0.3)/(0.2 + 0.6) = 50 %, noise (0.2 + 0.2)/(0 + 0.2) = 200 %; relative mCE 125.
        Assert.Equal(50, result.Corruptions[0].RelativeCe!.Value, 9);
        Assert.Equal(200, result.Corruptions[1].RelativeCe!.Value, 9);
        Assert.Equal(125, result.RelativeMeanCe!.Value, 9);
        // Against itself every CE is 100.
        var self = CorruptionErrors.Of(reference, reference, "softmax");
        Assert.All(self.Corruptions, c => Assert.Equal(100, c.Ce!.Value, 9));
        Assert.Equal(100, self.MeanCe!.Value, 9);
    }

    [Fact]
    public void AReferenceWithoutErrorsGivesNoCeAndMismatchedResultsAreRefused()
    {
        var model = Result(0.9, ("fog", false, [0.8, 0.6]));
        var perfect = Result(1, ("fog", false, [1, 1]));
        var result = CorruptionErrors.Of(model, perfect, "softmax");
        Assert.Null(result.Corruptions[0].Ce);
        Assert.Null(result.MeanCe);
        Assert.Throws<ArgumentException>(() => CorruptionErrors.Of(model, Result(0.9, ("snow", false, [0.8, 0.6])), "softmax"));
    }
}
