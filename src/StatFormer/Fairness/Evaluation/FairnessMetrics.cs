namespace StatFormer.Fairness.Evaluation;

/// <summary>
/// Group-fairness gaps of a classifier's predictions, in percentage points (×100; lower is fairer). Groups are the
/// protected-attribute groups (<see cref="StatFormer.Fairness.Data.FairSplit.Groups"/>); a group only takes part in a
/// comparison where it has samples of the conditioning class, and with fewer than two such groups a gap is 0.
/// </summary>
public static class FairnessMetrics
{
    /// <summary>
    /// Equalized odds, FSCL form (spec §4.4): the mean, over every class y present in <paramref name="targets"/>
    /// (y ∈ {0,1} for binary tasks) and every unordered pair of groups (s, s′) that both have samples with Y = y, of
    /// |P(ŷ = y | Y = y, S = s) − P(ŷ = y | Y = y, S = s′)|, ×100. All (y, pair) terms are averaged together, so with
    /// every group present in both classes it is the mean over y of the mean over pairs.
    /// </summary>
    public static double EqualizedOddsGap(int[] predictions, int[] targets, int[] groups)
    {
        CheckLengths(predictions, targets, groups);
        double sum = 0;
        var terms = 0;
        foreach (var y in targets.Distinct().Order())
        {
            var rates = RatesByGroup(groups, i => targets[i] == y, i => predictions[i] == y);
            for (var a = 0; a < rates.Length; a++)
                for (var b = a + 1; b < rates.Length; b++)
                {
                    sum += Math.Abs(rates[a] - rates[b]);
                    terms++;
                }
        }
        return terms == 0 ? 0.0 : 100.0 * sum / terms;
    }

    /// <summary>
    /// Equalized odds in Hardt et al.'s form for binary predictions and targets (0/1): the largest, over pairs of groups,
    /// of max(|ΔTPR|, |ΔFPR|), ×100 — i.e. max(max_s TPR_s − min_s TPR_s, max_s FPR_s − min_s FPR_s) over the groups that
    /// have positives (for TPR) or negatives (for FPR).
    /// </summary>
    public static double EqualizedOddsMaxGap(int[] predictions, int[] targets, int[] groups)
    {
        CheckLengths(predictions, targets, groups);
        CheckBinary(predictions, nameof(predictions));
        CheckBinary(targets, nameof(targets));
        var tpr = RatesByGroup(groups, i => targets[i] == 1, i => predictions[i] == 1);
        var fpr = RatesByGroup(groups, i => targets[i] == 0, i => predictions[i] == 1);
        return 100.0 * Math.Max(Spread(tpr), Spread(fpr));
    }

    /// <summary>Demographic parity: max − min over groups of P(ŷ = 1 | S = s), ×100.</summary>
    public static double DemographicParityGap(int[] predictions, int[] groups)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(groups);
        if (predictions.Length != groups.Length)
            throw new ArgumentException($"{predictions.Length} predictions but {groups.Length} groups", nameof(groups));
        if (predictions.Length == 0) throw new ArgumentException("no samples", nameof(predictions));
        return 100.0 * Spread(RatesByGroup(groups, _ => true, i => predictions[i] == 1));
    }

    /// <summary>P(event | condition, S = s) for each group s with at least one sample meeting the condition, by group id.</summary>
    private static double[] RatesByGroup(int[] groups, Func<int, bool> condition, Func<int, bool> hit)
    {
        var counts = new Dictionary<int, (int Total, int Hits)>();
        for (var i = 0; i < groups.Length; i++)
        {
            if (!condition(i)) continue;
            counts.TryGetValue(groups[i], out var c);
            counts[groups[i]] = (c.Total + 1, c.Hits + (hit(i) ? 1 : 0));
        }
        return counts.OrderBy(p => p.Key).Select(p => (double)p.Value.Hits / p.Value.Total).ToArray();
    }

    private static double Spread(double[] rates) => rates.Length < 2 ? 0.0 : rates.Max() - rates.Min();

    private static void CheckLengths(int[] predictions, int[] targets, int[] groups)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(groups);
        if (predictions.Length != targets.Length || predictions.Length != groups.Length)
            throw new ArgumentException(
                $"predictions ({predictions.Length}), targets ({targets.Length}) and groups ({groups.Length}) must have the same length");
        if (predictions.Length == 0) throw new ArgumentException("no samples", nameof(predictions));
    }

    private static void CheckBinary(int[] values, string name)
    {
        var bad = Array.FindIndex(values, v => v is not (0 or 1));
        if (bad >= 0) throw new ArgumentException($"{name} must be 0/1, found {values[bad]} at index {bad}", name);
    }
}
