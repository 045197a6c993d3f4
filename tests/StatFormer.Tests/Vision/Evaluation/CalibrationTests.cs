using StatFormer.Vision.Evaluation;

namespace StatFormer.Tests.Vision.Evaluation;

public sealed class CalibrationTests
{
    [Fact]
    public void EceMatchesAHandComputedValue()
    {
        // 15 bins of width 1/15. 0.95 and 0.99 fall in bin 14 (0.9333, 1]: accuracy 1/2, mean confidence 0.97;
        // 0.5 and 0.52 in bin 7 (0.4667, 0.5333]: accuracy 1, confidence 0.51; 0.19 in bin 2 (0.1333, 0.2]: accuracy 0.
        // ECE = 2/5·|0.5 − 0.97| + 2/5·|1 − 0.51| + 1/5·|0 − 0.19| = 0.188 + 0.196 + 0.038 = 0.422.
        double[] confidences = [0.95, 0.99, 0.5, 0.52, 0.19];
        bool[] correct = [true, false, true, true, false];
        Assert.Equal(0.422, Calibration.ExpectedCalibrationError(confidences, correct), 12);
        // A bin edge belongs to the bin below it: 1/15 sits in bin 0 with 0.01.
        Assert.Equal(Math.Abs(1 - (1.0 / 15 + 0.01) / 2), Calibration.ExpectedCalibrationError([1.0 / 15, 0.01], [true, true]), 12);
        // Perfect calibration scores 0.
        Assert.Equal(0, Calibration.ExpectedCalibrationError([1.0, 1.0], [true, true]), 12);
        Assert.Throws<ArgumentException>(() => Calibration.ExpectedCalibrationError([1.2], [true]));
    }

    [Fact]
    public void AurocCountsPairsAndTiesExactly()
    {
        // In: 0.9, 0.8, 0.5; out: 0.5, 0.3. Pairs (in > out): 0.9 beats both, 0.8 both, 0.5 beats 0.3 and ties 0.5:
        // (2 + 2 + 1 + ½) / 6 = 5.5/6.
        Assert.Equal(5.5 / 6, Calibration.Auroc([0.9, 0.8, 0.5], [0.5, 0.3]), 12);
        Assert.Equal(1, Calibration.Auroc([2, 3], [1]), 12);
        Assert.Equal(0, Calibration.Auroc([1], [2, 3]), 12);
        // All tied: ½.
        Assert.Equal(0.5, Calibration.Auroc([1, 1, 1], [1, 1]), 12);
        // Against a brute-force pair count on random scores with many ties.
        var random = new Random(3);
        var a = Enumerable.Range(0, 57).Select(_ => (double)random.Next(10)).ToArray();
        var b = Enumerable.Range(0, 41).Select(_ => (double)random.Next(10)).ToArray();
        var pairs = a.Sum(x => b.Sum(y => x > y ? 1.0 : x == y ? 0.5 : 0));
        Assert.Equal(pairs / (a.Length * b.Length), Calibration.Auroc(a, b), 12);
    }
}
