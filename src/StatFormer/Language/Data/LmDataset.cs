namespace StatFormer.Language.Data;

/// <summary>
/// A corpus and its tokenizer, encoded once: what every model of a comparison is trained and
/// evaluated on, so that they see exactly the same tokens.
/// </summary>
public sealed class LmDataset
{
    /// <summary>The value of --data that selects the embedded synthetic corpus.</summary>
    public const string Synthetic = "synthetic";

    private LmDataset(string source, TextCorpus corpus, ITokenizer tokenizer, SyntheticCorpus? synthetic)
    {
        Source = source;
        Corpus = corpus;
        Tokenizer = tokenizer;
        SyntheticCorpus = synthetic;
        Train = Encode(corpus.Train);
        Valid = Encode(corpus.Valid);
        Test = Encode(corpus.Test);
    }

    public string Source { get; }
    public TextCorpus Corpus { get; }
    public ITokenizer Tokenizer { get; }
    /// <summary>The generator's output (with latent topics) when the data is synthetic.</summary>
    public SyntheticCorpus? SyntheticCorpus { get; }
    public long[] Train { get; }
    public long[] Valid { get; }
    public long[] Test { get; }

    /// <summary>A dataset from <paramref name="options"/> (source or split files, tokenizer, vocabulary, data seed).</summary>
    public static LmDataset Load(LmDataOptions options) =>
        Load(options.Description, options.Tokenizer, options.MinCount, options.MaxVocab, options.DataSeed);

    /// <param name="data">A text file, a corpus folder, "synthetic", or three split files joined by '|' (<see cref="LmDataOptions.Description"/>).</param>
    /// <param name="tokenizer">char, word or gpt2.</param>
    /// <param name="dataSeed">Seeds the synthetic generator (ignored for files).</param>
    public static LmDataset Load(string data, string tokenizer, int minCount = 1, int? maxVocab = null, int dataSeed = 0)
    {
        SyntheticCorpus? synthetic = null;
        TextCorpus corpus;
        if (string.Equals(data, Synthetic, StringComparison.OrdinalIgnoreCase))
        {
            synthetic = SyntheticCorpus.Generate(new SyntheticCorpusOptions(), dataSeed);
            corpus = synthetic.Corpus;
        }
        else
        {
            corpus = LoadCorpus(data);
        }
        var trained = TokenizerFactory.Train(tokenizer, corpus.Train, minCount, maxVocab);
        return new LmDataset(data, corpus, trained, synthetic);
    }

    /// <summary>Rebuilds a dataset with a tokenizer restored from a checkpoint (so ids match the trained model).</summary>
    public static LmDataset Load(string data, ITokenizer tokenizer, int dataSeed = 0)
    {
        if (string.Equals(data, Synthetic, StringComparison.OrdinalIgnoreCase))
        {
            var synthetic = SyntheticCorpus.Generate(new SyntheticCorpusOptions(), dataSeed);
            return new LmDataset(data, synthetic.Corpus, tokenizer, synthetic);
        }
        return new LmDataset(data, LoadCorpus(data), tokenizer, null);
    }

    private static TextCorpus LoadCorpus(string data) =>
        data.Split('|') is [var train, var valid, var test] ? CorpusLoader.LoadSplits(train, valid, test) : CorpusLoader.Load(data);

    public long[] Encode(string text) => LmBatchSampler.ToIds(Tokenizer.Encode(text));

    /// <summary>Distinct whitespace-separated words of the training text, in ordinal order: the pool for random-substitution attacks.</summary>
    public IReadOnlyList<string> TrainingWords()
    {
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var word in Corpus.Train.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            words.Add(word);
        return words.ToList();
    }
}
