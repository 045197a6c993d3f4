namespace StatFormer.Probes;

/// <summary>How well a score ranks the items a generator marks as positive.</summary>
public static class RankAgreement
{
    /// <summary>AUROC: P(score on a positive &gt; score on a negative), ties counting half; null without both classes.</summary>
    public static double? Auroc(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(positive);
        if (scores.Count != positive.Count) throw new ArgumentException($"{scores.Count} scores for {positive.Count} labels", nameof(positive));
        var pos = scores.Where((_, i) => positive[i]).ToList();
        var neg = scores.Where((_, i) => !positive[i]).ToList();
        if (pos.Count == 0 || neg.Count == 0) return null;
        var wins = pos.Sum(p => neg.Sum(n => p > n ? 1.0 : p == n ? 0.5 : 0.0));
        return wins / (pos.Count * neg.Count);
    }
}
