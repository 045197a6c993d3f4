namespace StatFormer.Language.Data;

/// <summary>Maps text to token ids and back. Implementations are immutable once built.</summary>
public interface ITokenizer
{
    /// <summary>"char", "word" or "gpt2".</summary>
    string Kind { get; }

    /// <summary>Number of distinct ids; every id produced by <see cref="Encode"/> is below it.</summary>
    int VocabSize { get; }

    int[] Encode(string text);

    /// <summary>
    /// The same ids as <see cref="Encode"/>, each with the span of <paramref name="text"/> it was produced from, in text order
    /// (spans may overlap where one character yields several tokens, e.g. byte-level BPE pieces of one code point). Lets an
    /// evaluation find which tokens of an edited text are the very tokens of the original (see <c>UntouchedTargetAlignment</c>).
    /// </summary>
    EncodedText EncodeWithSpans(string text);

    string Decode(IReadOnlyList<int> ids);

    /// <summary>Serialises everything needed to rebuild this tokenizer exactly (see <see cref="TokenizerFactory.FromJson"/>).</summary>
    string ToJson();
}
