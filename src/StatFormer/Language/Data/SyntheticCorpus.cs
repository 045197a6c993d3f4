using System.Globalization;
using System.Text;

namespace StatFormer.Language.Data;

/// <summary>
/// A small topic-structured language, generated from a seed, so that the CLI can train and
/// evaluate without any files. Generative process:
/// <list type="number">
/// <item>Each topic owns <see cref="SyntheticCorpusOptions.WordsPerTopic"/> pronounceable made-up
/// lower-case words of 2–3 consonant-vowel syllables, disjoint across topics and from the function words.</item>
/// <item>Each topic has its own sparse first-order Markov chain over its words: every word gets
/// <see cref="SuccessorsPerWord"/> distinct successors (never itself) with probabilities drawn from a
/// flat Dirichlet (normalised exponential draws). A sentence's first topic word is uniform over the topic.</item>
/// <item>A document (one line) picks a topic uniformly and has MinSentences..MaxSentences sentences.
/// A sentence has MinSentenceLength..MaxSentenceLength word positions (uniform); each position is,
/// with probability <see cref="SyntheticCorpusOptions.SharedWordProbability"/>, a uniformly drawn function
/// word (which does not advance the chain), otherwise the next step of the topic's Markov walk.
/// The sentence ends with " ."; sentences are joined by single spaces.</item>
/// </list>
/// Given the topic, a topic word has at most <see cref="SuccessorsPerWord"/> likely values, so a model that
/// has learned the chains reaches a per-word perplexity of roughly 10-15 (estimate for the defaults), far below the vocabulary size, and
/// the topic of a line is identifiable from any one of its topic words.
/// </summary>
public sealed class SyntheticCorpus
{
    /// <summary>Successors each topic word has in its topic's transition matrix.</summary>
    public const int SuccessorsPerWord = 3;

    /// <summary>The pool the shared function words are taken from (the first SharedWords of it).</summary>
    public static readonly IReadOnlyList<string> FunctionWords =
    [
        "the", "of", "and", "a", "in", "to", "is", "was", "for", "on",
        "that", "with", "as", "at", "by", "it", "from", "or", "an", "be",
        "this", "which", "but", "are", "not", "his", "her", "its", "their", "were",
        "has", "had", "have", "he", "she", "they", "we", "all", "one", "so",
        "into", "up", "out", "if", "than", "then", "there", "when", "who", "will",
        "would", "can", "no", "more", "some", "over", "also", "after", "before", "about",
    ];

    private const string Consonants = "bdfgklmnprstvz";
    private const string Vowels = "aeiou";
    private const int MaxTopicWords = 100_000;

    private SyntheticCorpus(
        TextCorpus corpus, int[] trainTopics, int[] validTopics, int[] testTopics,
        string[][] topicWords, string[] sharedWords, string description)
    {
        Corpus = corpus;
        TrainLineTopics = trainTopics;
        ValidLineTopics = validTopics;
        TestLineTopics = testTopics;
        TopicWords = topicWords;
        SharedWords = sharedWords;
        Description = description;
    }

    public TextCorpus Corpus { get; }

    /// <summary>Latent topic (0-based) of each line of <see cref="TextCorpus.Train"/>.</summary>
    public IReadOnlyList<int> TrainLineTopics { get; }

    /// <summary>Latent topic of each line of <see cref="TextCorpus.Valid"/>.</summary>
    public IReadOnlyList<int> ValidLineTopics { get; }

    /// <summary>Latent topic of each line of <see cref="TextCorpus.Test"/>.</summary>
    public IReadOnlyList<int> TestLineTopics { get; }

    /// <summary>The content words owned by each topic.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TopicWords { get; }

    /// <summary>The function words shared by all topics.</summary>
    public IReadOnlyList<string> SharedWords { get; }

    /// <summary>The generative process and its parameters in one paragraph, for reports.</summary>
    public string Description { get; }

    public static SyntheticCorpus Generate(SyntheticCorpusOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var random = new Random(seed);

        var shared = FunctionWords.Take(options.SharedWords).ToArray();
        var topicWords = MakeTopicWords(options, random);
        var chains = topicWords.Select(words => MakeChain(words.Length, random)).ToArray();

        (string Text, int[] Topics) Documents(int count)
        {
            var text = new StringBuilder();
            var topics = new int[count];
            for (var d = 0; d < count; d++)
            {
                topics[d] = random.Next(options.Topics);
                AppendDocument(text, options, random, topicWords[topics[d]], chains[topics[d]], shared);
                text.Append('\n');
            }
            return (text.ToString(), topics);
        }

        var train = Documents(options.TrainDocuments);
        var valid = Documents(options.ValidDocuments);
        var test = Documents(options.TestDocuments);
        var corpus = new TextCorpus($"synthetic-seed{seed}", train.Text, valid.Text, test.Text);
        return new SyntheticCorpus(corpus, train.Topics, valid.Topics, test.Topics, topicWords, shared,
            Describe(options, seed));
    }

    private static void Validate(SyntheticCorpusOptions o)
    {
        // The options' own names lead each message; the record is the parameter.
        static void Require(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"synthetic corpus option {what}", "options");
        }

        Require(o.Topics >= 1, $"Topics must be at least 1 (got {o.Topics})");
        Require(o.WordsPerTopic >= 2, $"WordsPerTopic must be at least 2 (got {o.WordsPerTopic})");
        Require((long)o.Topics * o.WordsPerTopic <= MaxTopicWords,
            $"Topics x WordsPerTopic must be at most {MaxTopicWords} (got {(long)o.Topics * o.WordsPerTopic})");
        Require(o.SharedWords >= 0 && o.SharedWords <= FunctionWords.Count,
            $"SharedWords must be between 0 and {FunctionWords.Count} (got {o.SharedWords})");
        Require(o.TrainDocuments >= 1, $"TrainDocuments must be at least 1 (got {o.TrainDocuments})");
        Require(o.ValidDocuments >= 1, $"ValidDocuments must be at least 1 (got {o.ValidDocuments})");
        Require(o.TestDocuments >= 1, $"TestDocuments must be at least 1 (got {o.TestDocuments})");
        Require(o.MinSentences >= 1 && o.MinSentences <= o.MaxSentences,
            $"MinSentences..MaxSentences must satisfy 1 <= min <= max (got {o.MinSentences}..{o.MaxSentences})");
        Require(o.MinSentenceLength >= 1 && o.MinSentenceLength <= o.MaxSentenceLength,
            $"MinSentenceLength..MaxSentenceLength must satisfy 1 <= min <= max (got {o.MinSentenceLength}..{o.MaxSentenceLength})");
        Require(o.SharedWordProbability >= 0 && o.SharedWordProbability < 1 && (o.SharedWords > 0 || o.SharedWordProbability == 0),
            $"SharedWordProbability must be in [0, 1), and 0 when SharedWords is 0 (got {o.SharedWordProbability})");
    }

    private static string[][] MakeTopicWords(SyntheticCorpusOptions options, Random random)
    {
        var taken = new HashSet<string>(FunctionWords, StringComparer.Ordinal);
        var topics = new string[options.Topics][];
        var word = new StringBuilder();
        for (var t = 0; t < options.Topics; t++)
        {
            topics[t] = new string[options.WordsPerTopic];
            for (var i = 0; i < options.WordsPerTopic; i++)
            {
                do
                {
                    word.Clear();
                    var syllables = random.Next(2, 4);
                    for (var s = 0; s < syllables; s++)
                        word.Append(Consonants[random.Next(Consonants.Length)]).Append(Vowels[random.Next(Vowels.Length)]);
                } while (!taken.Add(word.ToString()));
                topics[t][i] = word.ToString();
            }
        }
        return topics;
    }

    /// <summary>Per word: successor indices and their cumulative probabilities.</summary>
    private static (int[] Next, double[] Cumulative)[] MakeChain(int words, Random random)
    {
        var successors = Math.Min(SuccessorsPerWord, words - 1);
        var chain = new (int[], double[])[words];
        var others = new int[words - 1];
        for (var w = 0; w < words; w++)
        {
            for (int i = 0, j = 0; i < words; i++)
                if (i != w) others[j++] = i;
            // Partial Fisher-Yates: the first `successors` entries become a uniform random subset.
            for (var i = 0; i < successors; i++)
            {
                var k = random.Next(i, others.Length);
                (others[i], others[k]) = (others[k], others[i]);
            }
            // Normalised Exp(1) draws are a flat Dirichlet sample.
            var weights = new double[successors];
            for (var i = 0; i < successors; i++) weights[i] = -Math.Log(1 - random.NextDouble());
            var total = weights.Sum();
            var cumulative = new double[successors];
            var running = 0.0;
            for (var i = 0; i < successors; i++) cumulative[i] = running += weights[i] / total;
            cumulative[^1] = 1.0;
            chain[w] = (others[..successors], cumulative);
        }
        return chain;
    }

    private static void AppendDocument(
        StringBuilder text, SyntheticCorpusOptions options, Random random,
        string[] words, (int[] Next, double[] Cumulative)[] chain, string[] shared)
    {
        var sentences = random.Next(options.MinSentences, options.MaxSentences + 1);
        for (var s = 0; s < sentences; s++)
        {
            if (s > 0) text.Append(' ');
            var length = random.Next(options.MinSentenceLength, options.MaxSentenceLength + 1);
            var current = -1; // no topic word yet in this sentence
            for (var position = 0; position < length; position++)
            {
                if (random.NextDouble() < options.SharedWordProbability)
                {
                    text.Append(shared[random.Next(shared.Length)]);
                }
                else
                {
                    current = current < 0 ? random.Next(words.Length) : Step(chain[current], random.NextDouble());
                    text.Append(words[current]);
                }
                text.Append(' ');
            }
            text.Append('.');
        }
    }

    private static int Step((int[] Next, double[] Cumulative) row, double u)
    {
        for (var i = 0; i < row.Cumulative.Length; i++)
            if (u < row.Cumulative[i]) return row.Next[i];
        return row.Next[^1];
    }

    private static string Describe(SyntheticCorpusOptions o, int seed) => string.Create(CultureInfo.InvariantCulture,
        $"Synthetic topic corpus (seed {seed}): {o.TrainDocuments}/{o.ValidDocuments}/{o.TestDocuments} train/valid/test documents, one per line. " +
        $"Each document picks one of {o.Topics} topics uniformly and has {o.MinSentences}-{o.MaxSentences} sentences of {o.MinSentenceLength}-{o.MaxSentenceLength} words ending in \" .\". " +
        $"Each topic owns {o.WordsPerTopic} made-up consonant-vowel words (disjoint across topics) linked by its own sparse first-order Markov chain " +
        $"({SuccessorsPerWord} successors per word, flat-Dirichlet weights); at every position, with probability {o.SharedWordProbability}, " +
        $"one of {o.SharedWords} shared English function words is emitted instead, without advancing the chain.");
}
