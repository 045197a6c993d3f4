using StatFormer.Options;

namespace StatFormer.Language.Data;

/// <summary>The text a language model is trained and evaluated on, how it is tokenized, and how it is batched.</summary>
public sealed record LmDataOptions
{
    /// <summary>
    /// A text file (split 90/5/5 by lines), a corpus folder (wiki.{train,valid,test}.tokens, {train,valid,test}.txt,
    /// or one file each named *train*, *valid*/*val*/*dev*, *test*), or "synthetic" (the embedded generator).
    /// Ignored when <see cref="TrainFile"/>, <see cref="ValidFile"/> and <see cref="TestFile"/> are given.
    /// </summary>
    public string Source { get; init; } = LmDataset.Synthetic;

    /// <summary>The training text, given explicitly (with <see cref="ValidFile"/> and <see cref="TestFile"/>).</summary>
    public string? TrainFile { get; init; }

    /// <summary>The validation text, given explicitly.</summary>
    public string? ValidFile { get; init; }

    /// <summary>The test text, given explicitly.</summary>
    public string? TestFile { get; init; }

    /// <summary>Tokenization: char, word or gpt2.</summary>
    public string Tokenizer { get; init; } = "word";

    /// <summary>Word tokenizer: minimum count of a word to enter the vocabulary.</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Word tokenizer: cap on the vocabulary size (the most frequent words are kept); null: no cap.</summary>
    public int? MaxVocab { get; init; }

    /// <summary>Seeds the synthetic corpus; the same for every model of a comparison.</summary>
    public int DataSeed { get; init; }

    /// <summary>Sequences per batch, in training and in evaluation.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Whether the three split files are given explicitly.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool HasSplitFiles => TrainFile is not null || ValidFile is not null || TestFile is not null;

    /// <summary>What the data is called in checkpoints and for `lm eval`: the source, or the three files joined by '|'.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Description => HasSplitFiles ? $"{TrainFile}|{ValidFile}|{TestFile}" : Source;

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(!string.IsNullOrWhiteSpace(Source), nameof(Source), "must not be empty");
        if (HasSplitFiles)
        {
            OptionCheck.Require(TrainFile is not null, nameof(TrainFile), "must be given with ValidFile and TestFile");
            OptionCheck.Require(ValidFile is not null, nameof(ValidFile), "must be given with TrainFile and TestFile");
            OptionCheck.Require(TestFile is not null, nameof(TestFile), "must be given with TrainFile and ValidFile");
        }
        OptionCheck.Require(TokenizerFactory.Kinds.Contains(Tokenizer), nameof(Tokenizer),
            $"'{Tokenizer}' is not one of: {string.Join(", ", TokenizerFactory.Kinds)}");
        OptionCheck.Require(MinCount >= 1, nameof(MinCount), $"must be at least 1 (got {MinCount})");
        OptionCheck.Require(MaxVocab is null or >= 2, nameof(MaxVocab), $"must be at least 2, for <eos> and <unk> (got {MaxVocab})");
        OptionCheck.Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1 (got {BatchSize})");
    }
}
