using System.Globalization;
using StatFormer.Language.Data;
using StatFormer.Language.Experiments;
using StatFormer.Language.Robustness;

namespace StatFormer.Language.Evaluation;

/// <summary>
/// The token streams a run is evaluated on: clean valid and test, and the test text after a word-swap
/// attack at each rate. Built once per comparison so that every model sees the same corruption draw.
/// </summary>
public sealed class EvaluationSets
{
    private EvaluationSets(long[] validForTraining, long[] valid, long[] test, IReadOnlyList<AttackedSet> attacked, int[]? testTopics, int topicCount,
        TargetTextSize? testTargetText)
    {
        TestTargetText = testTargetText;
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
    /// <summary>The size of the text the scored test targets stand for (the denominator of bits per character / byte); null for the word tokenizer.</summary>
    public TargetTextSize? TestTargetText { get; }

    /// <param name="Characters">UTF-16 code units (the char tokenizer's unit; one per character outside the astral planes).</param>
    /// <param name="Bytes">UTF-8 bytes, for byte-level tokenizers (GPT-2 BPE); null otherwise.</param>
    public sealed record TargetTextSize(long Characters, long? Bytes);

    /// <summary>
    /// The text the targets of <paramref name="ids"/> (tokens 1 … N−1, every one scored once) cover: they are decoded as one sequence,
    /// so the byte pieces of a character count once (a character split by the first token counts as U+FFFD, 3 bytes). Null for the
    /// word tokenizer, whose decoded text is not the original (whitespace normalised, unknown words spelt &lt;unk&gt;), so characters
    /// of it would not measure the text.
    /// </summary>
    public static TargetTextSize? TargetText(ITokenizer tokenizer, long[] ids)
    {
        if (tokenizer is WordTokenizer || ids.Length < 2) return null;
        var text = tokenizer.Decode(ids[1..].Select(id => (int)id).ToList());
        return new TargetTextSize(text.Length, tokenizer is Gpt2Tokenizer ? System.Text.Encoding.UTF8.GetByteCount(text) : null);
    }

    /// <param name="Untouched">The targets the attack did not touch, located in both streams; null when the tokenizer's spans give no
    /// exact alignment (see <see cref="UntouchedTargetAlignment"/>).</param>
    public sealed record AttackedSet(double Rate, double EffectiveRate, int WordsSwapped, long[] Tokens, UntouchedTargets? Untouched)
    {
        public string Key => Rate.ToString("0.###", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The same untouched targets flagged in each stream: every target flagged in <see cref="InAttacked"/> is one token of the text that
    /// is flagged, at its own position, in <see cref="InClean"/>, and vice versa, so perplexity over the flagged targets of each stream
    /// averages over exactly the same predictions, once with the attacked context and once with the clean one. Position 0 is never
    /// flagged (it is no target).
    /// </summary>
    /// <param name="InAttacked">One flag per token of <see cref="AttackedSet.Tokens"/>.</param>
    /// <param name="InClean">One flag per token of <see cref="Test"/>.</param>
    /// <param name="Count">Targets flagged in each.</param>
    public sealed record UntouchedTargets(bool[] InAttacked, bool[] InClean, int Count);

    public static EvaluationSets Build(LmDataset data, LmRunOptions options)
    {
        long[] Cap(long[] ids, int max) => max > 0 && ids.Length > max ? ids[..max] : ids;
        var test = Cap(data.Test, options.Eval.EvalTokens);
        var cleanText = data.Corpus.Test;
        EncodedText? clean = null;
        var substitution = options.Attack.Mode == WordSwapMode.RandomSubstitution ? data.TrainingWords() : null;
        var attacked = options.Attack.Rates.Distinct().OrderBy(r => r).Select(rate =>
        {
            var result = WordSwapAttack.Apply(cleanText, options.Attack.At(rate), substitution);
            var encoded = data.Tokenizer.EncodeWithSpans(result.Text);
            // Both streams are capped to the same number of tokens; only targets inside both caps are compared.
            var tokens = Cap(LmBatchSampler.ToIds(encoded.Ids), options.Eval.EvalTokens);
            clean ??= data.Tokenizer.EncodeWithSpans(cleanText);
            var pairs = UntouchedTargetAlignment.Match(clean, cleanText.Length, encoded, result.Text.Length, result.Replacements);
            return new AttackedSet(rate, result.EffectiveRate, result.WordsSwapped, tokens, pairs is null ? null : Flags(pairs, tokens.Length, test.Length));
        }).ToList();
        var topics = TokenTopics(data);
        return new EvaluationSets(Cap(data.Valid, options.Eval.ValidTokens), Cap(data.Valid, options.Eval.EvalTokens), test, attacked,
            topics?[..test.Length], topics is null ? 0 : data.SyntheticCorpus!.TopicWords.Count, TargetText(data.Tokenizer, test));
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

    /// <summary>Flags the matched pairs that are targets (not position 0) inside both capped streams.</summary>
    private static UntouchedTargets Flags(IReadOnlyList<(int Clean, int Attacked)> pairs, int attackedLength, int cleanLength)
    {
        var inAttacked = new bool[attackedLength];
        var inClean = new bool[cleanLength];
        var count = 0;
        foreach (var (c, a) in pairs)
        {
            if (c == 0 || a == 0 || c >= cleanLength || a >= attackedLength) continue;
            inClean[c] = inAttacked[a] = true;
            count++;
        }
        return new UntouchedTargets(inAttacked, inClean, count);
    }
}
