namespace StatFormer.Vision.Data;

/// <summary>
/// Seeded, class-stratified index selection: the one-folder train/test split and the MaxTrain/MaxTest subsets.
/// Results are sorted ascending, so a dataset keeps its source order (sorted paths) whatever the seed.
/// </summary>
public static class StratifiedSampling
{
    /// <summary>
    /// Splits indices 0 … n−1 so that each class sends round(n_c · <paramref name="testFraction"/>) of its members,
    /// at least one and at most n_c − 1, to the test side.
    /// </summary>
    /// <exception cref="InvalidDataException">A class has fewer than two members, naming it.</exception>
    public static (long[] Train, long[] Test) Split(IReadOnlyList<long> labels, IReadOnlyList<string> classNames, double testFraction, int seed)
    {
        var random = new Random(StatFormer.Data.Seeds.ForName(seed, "vision-train-test-split"));
        var train = new List<long>();
        var test = new List<long>();
        foreach (var (members, c) in MembersByClass(labels, classNames.Count).Select((m, c) => (m, c)))
        {
            if (members.Length < 2)
                throw new InvalidDataException(
                    $"class '{classNames[c]}' has {members.Length} image(s); a train/test split needs at least 2 per class");
            random.Shuffle(members);
            var testCount = Math.Clamp((int)Math.Round(members.Length * testFraction, MidpointRounding.AwayFromZero), 1, members.Length - 1);
            test.AddRange(members[..testCount]);
            train.AddRange(members[testCount..]);
        }
        train.Sort();
        test.Sort();
        return (train.ToArray(), test.ToArray());
    }

    /// <summary>
    /// <paramref name="count"/> indices with each class's share proportional to its frequency (largest remainders,
    /// at least one per class present), drawn per class under <paramref name="seed"/> and <paramref name="streamName"/>.
    /// </summary>
    public static long[] Subset(IReadOnlyList<long> labels, int classes, int count, int seed, string streamName)
    {
        var byClass = MembersByClass(labels, classes).Where(m => m.Length > 0).ToArray();
        if (count >= labels.Count) return Enumerable.Range(0, labels.Count).Select(i => (long)i).ToArray();
        if (count < byClass.Length)
            throw new ArgumentException($"a class-stratified subset of {count} cannot hold one image of each of the {byClass.Length} classes", nameof(count));

        // Largest-remainder allocation of count − K over the classes, after one each.
        var extra = count - byClass.Length;
        var rest = labels.Count - byClass.Length;
        var quotas = byClass.Select(m => (double)extra * (m.Length - 1) / rest).ToArray();
        var take = quotas.Select(q => (int)Math.Floor(q) + 1).ToArray();
        var order = Enumerable.Range(0, byClass.Length).OrderByDescending(i => quotas[i] - Math.Floor(quotas[i])).ThenBy(i => i);
        foreach (var i in order.Take(count - take.Sum())) take[i]++;

        var random = new Random(StatFormer.Data.Seeds.ForName(seed, streamName));
        var chosen = new List<long>();
        for (var i = 0; i < byClass.Length; i++)
        {
            random.Shuffle(byClass[i]);
            chosen.AddRange(byClass[i][..take[i]]);
        }
        chosen.Sort();
        return chosen.ToArray();
    }

    private static long[][] MembersByClass(IReadOnlyList<long> labels, int classes)
    {
        var lists = Enumerable.Range(0, classes).Select(_ => new List<long>()).ToArray();
        for (var i = 0; i < labels.Count; i++) lists[labels[i]].Add(i);
        return lists.Select(l => l.ToArray()).ToArray();
    }
}
