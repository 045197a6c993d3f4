using System.Globalization;
using StatFormer.Robustness;

namespace StatFormer.Experiments;

/// <summary>
/// The token streams a run is evaluated on: clean valid and test, and the test text after a word-swap
/// attack at each rate. Built once per comparison so that every model sees the same corruption draw.
/// </summary>
public sealed class EvaluationSets
{
    private EvaluationSets(long[] validForTraining, long[] valid, long[] test, IReadOnlyList<AttackedSet> attacked, int[]? testTopics, int topicCount)
    {
        ValidForTraining = validForTraining;
        Valid = valid;
        Test = test;
        Attacked = attacked;
        TestTopics = testTopics;
        TopicCount = topicCount;
    }

    /// <summary>The (possibly shortened) validation stream for periodic evaluation during training.</summary>
    public long[] ValidForTraining { get; }
    public long[] Valid { get; }
    public long[] Test { get; }
    public IReadOnlyList<AttackedSet> Attacked { get; }
    /// <summary>Synthetic data only: the generator's latent topic of the line each test token belongs to (aligned with <see cref="Test"/>); null otherwise.</summary>
    public int[]? TestTopics { get; }
    /// <summary>Number of latent topics (0 without <see cref="TestTopics"/>).</summary>
    public int TopicCount { get; }

    /// <param name="UncorruptedTargets">When the attacked stream is aligned with the clean one (word tokenizer: one token per word),
    /// true where the token was not swapped; null otherwise.</param>
    public sealed record AttackedSet(double Rate, double EffectiveRate, int WordsSwapped, long[] Tokens, bool[]? UncorruptedTargets)
    {
        public string Key => Rate.ToString("0.###", CultureInfo.InvariantCulture);
    }

    public static EvaluationSets Build(LmDataset data, LmRunOptions options)
    {
        long[] Cap(long[] ids, int max) => max > 0 && ids.Length > max ? ids[..max] : ids;
        var test = Cap(data.Test, options.EvalTokens);
        var substitution = options.AttackMode == WordSwapMode.RandomSubstitution ? data.TrainingWords() : null;
        var attacked = options.AttackRates.Distinct().OrderBy(r => r).Select(rate =>
        {
            var result = WordSwapAttack.Apply(data.Corpus.Test, new WordSwapOptions(rate, options.AttackMode, Seed: options.AttackSeed, Unit: options.AttackUnit), substitution);
            var tokens = Cap(data.Encode(result.Text), options.EvalTokens);
            return new AttackedSet(rate, result.EffectiveRate, result.WordsSwapped, tokens, UnchangedPositions(tokens, test));
        }).ToList();
        var topics = TokenTopics(data);
        return new EvaluationSets(Cap(data.Valid, options.ValidTokens), Cap(data.Valid, options.EvalTokens), test, attacked,
            topics?[..test.Length], topics is null ? 0 : data.SyntheticCorpus!.TopicWords.Count);
    }

    /// <summary>
    /// The latent topic of every test token: each synthetic document is one line, so encoding the lines one
    /// by one labels the tokens. Null when the data is not synthetic or the tokenizer does not encode line by
    /// line the same way as the whole text (then there is nothing trustworthy to compare routing with).
    /// </summary>
    private static int[]? TokenTopics(LmDataset data)
    {
        if (data.SyntheticCorpus is not { } synthetic) return null;
        var lines = data.Corpus.Test.Split('\n');
        var documents = synthetic.TestLineTopics;
        if (lines.Length != documents.Count + 1 || lines[^1].Length != 0) return null;
        var topics = new List<int>(data.Test.Length);
        var position = 0;
        for (var d = 0; d < documents.Count; d++)
        {
            var ids = data.Encode(lines[d] + "\n");
            for (var i = 0; i < ids.Length; i++, position++)
            {
                if (position >= data.Test.Length || data.Test[position] != ids[i]) return null;
                topics.Add(documents[d]);
            }
        }
        return position == data.Test.Length ? topics.ToArray() : null;
    }

    private static bool[]? UnchangedPositions(long[] attacked, long[] clean)
    {
        if (attacked.Length != clean.Length) return null;
        var same = new bool[clean.Length];
        for (var i = 0; i < same.Length; i++) same[i] = attacked[i] == clean[i];
        return same;
    }
}
