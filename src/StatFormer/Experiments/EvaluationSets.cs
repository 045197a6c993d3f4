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

    public sealed record AttackedSet(double Rate, double EffectiveRate, int WordsSwapped, long[] Tokens)
    {
        public string Key => Rate.ToString("0.###", CultureInfo.InvariantCulture);
    }

    public static EvaluationSets Build(LmDataset data, LmRunOptions options)
    {
        long[] Cap(long[] ids, int max) => max > 0 && ids.Length > max ? ids[..max] : ids;
        var substitution = options.AttackMode == WordSwapMode.RandomSubstitution ? data.TrainingWords() : null;
        var attacked = options.AttackRates.Distinct().OrderBy(r => r).Select(rate =>
        {
            var result = WordSwapAttack.Apply(data.Corpus.Test, new WordSwapOptions(rate, options.AttackMode, Seed: options.AttackSeed, Unit: options.AttackUnit), substitution);
            return new AttackedSet(rate, result.EffectiveRate, result.WordsSwapped, Cap(data.Encode(result.Text), options.EvalTokens));
        }).ToList();
        return new EvaluationSets(Cap(data.Valid, options.ValidTokens), Cap(data.Valid, options.EvalTokens), Cap(data.Test, options.EvalTokens), attacked);
    }
}
