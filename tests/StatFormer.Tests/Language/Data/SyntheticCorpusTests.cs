using StatFormer.Language.Data;

namespace StatFormer.Tests.Language.Data;

public class SyntheticCorpusTests
{
    private static readonly SyntheticCorpusOptions Defaults = new();

    [Fact]
    public void SameSeed_GivesIdenticalText()
    {
        var a = SyntheticCorpus.Generate(Defaults, seed: 7);
        var b = SyntheticCorpus.Generate(Defaults, seed: 7);
        Assert.Equal(a.Corpus, b.Corpus);
        Assert.Equal(a.TrainLineTopics, b.TrainLineTopics);
        Assert.Equal(a.Description, b.Description);
    }

    [Fact]
    public void DifferentSeed_GivesDifferentText()
    {
        var a = SyntheticCorpus.Generate(Defaults, seed: 1);
        var b = SyntheticCorpus.Generate(Defaults, seed: 2);
        Assert.NotEqual(a.Corpus.Train, b.Corpus.Train);
    }

    [Fact]
    public void LineTopics_MatchLineCounts()
    {
        var s = SyntheticCorpus.Generate(Defaults, seed: 3);
        Assert.Equal(Defaults.TrainDocuments, s.TrainLineTopics.Count);
        Assert.Equal(Lines(s.Corpus.Train).Length, s.TrainLineTopics.Count);
        Assert.Equal(Lines(s.Corpus.Valid).Length, s.ValidLineTopics.Count);
        Assert.Equal(Lines(s.Corpus.Test).Length, s.TestLineTopics.Count);
        Assert.All(s.TrainLineTopics, t => Assert.InRange(t, 0, Defaults.Topics - 1));
        Assert.Equal(Defaults.Topics, s.TrainLineTopics.Distinct().Count());
    }

    [Fact]
    public void TopicWords_AreDisjointAndEachLineUsesOnlyItsTopic()
    {
        var s = SyntheticCorpus.Generate(Defaults, seed: 4);
        var all = s.TopicWords.SelectMany(w => w).ToList();
        Assert.Equal(Defaults.Topics * Defaults.WordsPerTopic, all.Distinct().Count());
        Assert.Empty(all.Intersect(SyntheticCorpus.FunctionWords));
        Assert.All(all, w => Assert.Matches("^[a-z]+$", w));

        var lines = Lines(s.Corpus.Train);
        for (var i = 0; i < lines.Length; i++)
        {
            var allowed = s.TopicWords[s.TrainLineTopics[i]].Concat(s.SharedWords).Append(".").ToHashSet();
            Assert.All(lines[i].Split(' '), w => Assert.Contains(w, allowed));
            Assert.EndsWith(" .", lines[i]);
        }
    }

    [Fact]
    public void DefaultCorpus_IsSmallWithASmallVocabulary()
    {
        var s = SyntheticCorpus.Generate(Defaults, seed: 5);
        var tokenizer = WordTokenizer.Train(s.Corpus.Train);
        var trainTokens = tokenizer.Encode(s.Corpus.Train).Length;
        Assert.InRange(trainTokens, 20_000, 200_000);
        Assert.InRange(tokenizer.VocabSize, 200, 400);
        // Held-out text uses no word outside the training vocabulary.
        Assert.DoesNotContain(tokenizer.UnkId, tokenizer.Encode(s.Corpus.Valid + s.Corpus.Test));
        Assert.Contains("Markov", s.Description);
    }

    [Fact]
    public void DefaultCorpus_IsLearnable_BigramPerplexityFarBelowVocabularySize()
    {
        // Even a bigram model (which loses the chain state at every function word) must do far
        // better than uniform; a transformer that tracks the last topic word does better still.
        var s = SyntheticCorpus.Generate(Defaults, seed: 6);
        var tokenizer = WordTokenizer.Train(s.Corpus.Train);
        var train = tokenizer.Encode(s.Corpus.Train);
        var valid = tokenizer.Encode(s.Corpus.Valid);
        var v = tokenizer.VocabSize;
        var pairs = new double[v, v];
        var firsts = new double[v];
        for (var i = 1; i < train.Length; i++)
        {
            pairs[train[i - 1], train[i]]++;
            firsts[train[i - 1]]++;
        }
        var nats = 0.0;
        for (var i = 1; i < valid.Length; i++)
            nats -= Math.Log((pairs[valid[i - 1], valid[i]] + 0.01) / (firsts[valid[i - 1]] + 0.01 * v));
        var perplexity = Math.Exp(nats / (valid.Length - 1));
        Assert.True(perplexity < 40, $"bigram perplexity {perplexity:F1} with vocabulary {v}");
    }

    [Fact]
    public void InvalidOptions_ThrowArgumentExceptionNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            SyntheticCorpus.Generate(Defaults with { MinSentences = 6, MaxSentences = 5 }, seed: 1));
        Assert.Contains("MinSentences", e.Message);
        Assert.Throws<ArgumentException>(() => SyntheticCorpus.Generate(Defaults with { SharedWords = 1000 }, seed: 1));
    }

    private static string[] Lines(string text) => text.TrimEnd('\n').Split('\n');
}
