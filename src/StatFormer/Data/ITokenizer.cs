namespace StatFormer.Data;

/// <summary>Maps text to token ids and back. Implementations are immutable once built.</summary>
public interface ITokenizer
{
    /// <summary>"char", "word" or "gpt2".</summary>
    string Kind { get; }

    /// <summary>Number of distinct ids; every id produced by <see cref="Encode"/> is below it.</summary>
    int VocabSize { get; }

    int[] Encode(string text);

    string Decode(IReadOnlyList<int> ids);

    /// <summary>Serialises everything needed to rebuild this tokenizer exactly (see <see cref="TokenizerFactory.FromJson"/>).</summary>
    string ToJson();
}
