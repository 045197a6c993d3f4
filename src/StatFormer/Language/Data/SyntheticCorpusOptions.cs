namespace StatFormer.Language.Data;

/// <summary>
/// Knobs of the <see cref="SyntheticCorpus"/> generative process. The defaults give about 50K
/// words in all, over a vocabulary of about 280 words, which a small 2-layer model learns within
/// a few hundred steps.
/// </summary>
/// <param name="Topics">Number of latent topics; each document belongs to one.</param>
/// <param name="WordsPerTopic">Made-up content words owned by each topic (topics never share them).</param>
/// <param name="SharedWords">How many English function words ("the", "of", ...) all topics share; at most <see cref="SyntheticCorpus.FunctionWords"/>.Count.</param>
/// <param name="TrainDocuments">Documents (= lines) in the training text.</param>
/// <param name="ValidDocuments">Documents in the validation text.</param>
/// <param name="TestDocuments">Documents in the test text.</param>
/// <param name="MinSentences">Fewest sentences in a document.</param>
/// <param name="MaxSentences">Most sentences in a document.</param>
/// <param name="MinSentenceLength">Fewest words in a sentence, not counting the final ".".</param>
/// <param name="MaxSentenceLength">Most words in a sentence, not counting the final ".".</param>
/// <param name="SharedWordProbability">Chance that any one word position holds a function word instead of the next topic word.</param>
public sealed record SyntheticCorpusOptions(
    int Topics = 4,
    int WordsPerTopic = 60,
    int SharedWords = 40,
    int TrainDocuments = 1200,
    int ValidDocuments = 100,
    int TestDocuments = 100,
    int MinSentences = 2,
    int MaxSentences = 5,
    int MinSentenceLength = 5,
    int MaxSentenceLength = 12,
    double SharedWordProbability = 0.2);
