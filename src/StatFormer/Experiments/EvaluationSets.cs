using System.Globalization;
using StatFormer.Robustness;

namespace StatFormer.Experiments;

/// <summary>
/// The token streams a run is evaluated on: clean valid and test, and the test text after a word-swap
/// attack at each rate. Built once per comparison so that every model sees the same corruption draw.
/// </summary>
public sealed class EvaluationSets
{
    private EvaluationSets(long[] validForTraining, long[] valid, long[] test, IReadOnlyList<AttackedSet> attacked)
    {
        ValidForTraining = validForTraining;
        Valid = valid;
        Test = test;
        Attacked = attacked;
    }

    /// <summary>The (possibly shortened) validation stream for periodic evaluation during training.</summary>
    public long[] ValidForTraining { get; }
    public long[] Valid { get; }
    public long[] Test { get; }
    public IReadOnlyList<AttackedSet> Attacked { get; }

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
        return new EvaluationSets(Cap(data.Valid, options.ValidTokens), Cap(data.Valid, options.EvalTokens), test, attacked);
    }

    private static bool[]? UnchangedPositions(long[] attacked, long[] clean)
    {
        if (attacked.Length != clean.Length) return null;
        var same = new bool[clean.Length];
        for (var i = 0; i < same.Length; i++) same[i] = attacked[i] == clean[i];
        return same;
    }
}
