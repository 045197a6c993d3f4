namespace StatFormer.Language.Robustness;

/// <summary>The stretch of text the word-swap attack computes its swap count over.</summary>
public enum WordSwapUnit
{
    /// <summary>Every line (the paper's protocol).</summary>
    Line,
    /// <summary>Every paragraph: a maximal run of non-blank lines.</summary>
    Paragraph,
}
