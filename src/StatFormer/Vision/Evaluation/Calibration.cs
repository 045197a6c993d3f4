namespace StatFormer.Vision.Evaluation;

/// <summary>Calibration and out-of-distribution detection scores from a classifier's softmax outputs.</summary>
public static class Calibration
{
    /// <summary>Equal-width confidence bins of <see cref="ExpectedCalibrationError"/>.</summary>
    public const int Bins = 15;

    /// <summary>
    /// Expected calibration error with <paramref name="bins"/> equal-width bins of the confidence c (the largest
    /// softmax probability): bin b holds c ∈ (b/B, (b+1)/B] (c = 0 falls in the first), and
    /// ECE = Σ_b (n_b/N)·|accuracy_b − mean confidence_b|.
    /// </summary>
    public static double ExpectedCalibrationError(IReadOnlyList<double> confidences, IReadOnlyList<bool> correct, int bins = Bins)
    {
        ArgumentNullException.ThrowIfNull(confidences);
        ArgumentNullException.ThrowIfNull(correct);
        if (confidences.Count != correct.Count) throw new ArgumentException($"{confidences.Count} confidences for {correct.Count} outcomes", nameof(correct));
        if (confidences.Count == 0) throw new ArgumentException("no predictions", nameof(confidences));
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "at least one bin");
        var count = new int[bins];
        var hits = new double[bins];
        var confidence = new double[bins];
        for (var i = 0; i < confidences.Count; i++)
        {
            var c = confidences[i];
            if (!(c >= 0 && c <= 1)) throw new ArgumentException($"confidence {c} is not in [0, 1]", nameof(confidences));
            var b = Math.Clamp((int)Math.Ceiling(c * bins) - 1, 0, bins - 1);
            count[b]++;
            hits[b] += correct[i] ? 1 : 0;
            confidence[b] += c;
        }
        double ece = 0;
        for (var b = 0; b < bins; b++)
            if (count[b] > 0) ece += (double)count[b] / confidences.Count * Math.Abs(hits[b] / count[b] - confidence[b] / count[b]);
        return ece;
    }

    /// <summary>
    /// Area under the ROC curve of a score that should be higher in distribution: the probability that a random
    /// in-distribution score exceeds a random shifted one, ties counting ½. Exact, from average ranks (Mann–Whitney):
    /// (R_in − n_in(n_in + 1)/2) / (n_in·n_out), R_in the in-distribution rank sum with tied scores sharing their mean rank.
    /// </summary>
    public static double Auroc(IReadOnlyList<double> inDistribution, IReadOnlyList<double> shifted)
    {
        ArgumentNullException.ThrowIfNull(inDistribution);
        ArgumentNullException.ThrowIfNull(shifted);
        if (inDistribution.Count == 0 || shifted.Count == 0) throw new ArgumentException("both sets need at least one score");
        var all = inDistribution.Select(s => (Score: s, In: true)).Concat(shifted.Select(s => (Score: s, In: false))).ToArray();
        if (all.Any(a => double.IsNaN(a.Score))) throw new ArgumentException("a score is NaN");
        Array.Sort(all, (a, b) => a.Score.CompareTo(b.Score));
        double rankSum = 0;
        for (var start = 0; start < all.Length;)
        {
            var end = start;
            while (end + 1 < all.Length && all[end + 1].Score == all[start].Score) end++;
            // Ranks start + 1 … end + 1 share their mean.
            var rank = (start + end + 2) / 2.0;
            for (var i = start; i <= end; i++)
                if (all[i].In) rankSum += rank;
            start = end + 1;
        }
        double nIn = inDistribution.Count, nOut = shifted.Count;
        return (rankSum - nIn * (nIn + 1) / 2) / (nIn * nOut);
    }
}
