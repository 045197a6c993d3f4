namespace StatFormer.Language.Robustness;

/// <summary>
/// Words the word-swap attack never replaces: English function words, matched case-sensitively as TextAttack's
/// StopwordModification matches its (lower-case) list, so "the" is protected and a sentence-initial "The" is not.
/// Punctuation and WikiText markup ("=", "@-@", ",") need no entry: they are not words at all (see <see cref="WordSwapAttack.WordSpans"/>).
/// </summary>
public static class StopWords
{
    private static readonly HashSet<string> FunctionWords = new(StringComparer.Ordinal)
    {
        // articles and determiners
        "a", "an", "the", "this", "that", "these", "those", "each", "every", "either", "neither",
        "some", "any", "no", "all", "both", "few", "many", "much", "more", "most", "other", "another",
        "such", "several", "own", "same",
        // pronouns
        "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves",
        "you", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself",
        "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their", "theirs",
        "themselves", "who", "whom", "whose", "which", "what", "whoever", "whatever", "one",
        // prepositions
        "of", "in", "on", "at", "by", "for", "with", "about", "against", "between", "into", "through",
        "during", "before", "after", "above", "below", "to", "from", "up", "down", "out", "off", "over",
        "under", "onto", "upon", "within", "without", "along", "across", "behind", "beyond", "among",
        "around", "toward", "towards", "via", "per", "than", "since", "until", "till", "despite",
        // auxiliaries and modals
        "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having",
        "do", "does", "did", "doing", "will", "would", "shall", "should", "can", "could", "may",
        "might", "must", "ought",
        // conjunctions
        "and", "or", "but", "nor", "so", "yet", "if", "because", "as", "while", "although", "though",
        "unless", "whether", "whereas",
        // adverbs and other function words
        "not", "only", "very", "too", "also", "just", "then", "there", "here", "when", "where", "why",
        "how", "again", "further", "once", "now", "even", "still", "ever", "never", "however", "thus",
        "hence", "therefore", "else", "rather", "quite", "almost", "already", "often",
        // contraction pieces: WikiText writes "it 's", "do n't"; as words (no leading apostrophe) these are "s" and "n't"
        "s", "t", "re", "ve", "ll", "d", "m", "n't",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> FunctionWordsBySpan =
        FunctionWords.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>True when the attack must not swap <paramref name="word"/> (exact, case-sensitive match).</summary>
    public static bool Contains(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return FunctionWords.Contains(word);
    }

    /// <inheritdoc cref="Contains(string)"/>
    public static bool Contains(ReadOnlySpan<char> word) => FunctionWordsBySpan.Contains(word);
}
