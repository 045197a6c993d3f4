using StatFormer.Options;

namespace StatFormer.Language.Robustness;

/// <summary>What a chosen word is replaced with by <see cref="WordSwapAttack"/>.</summary>
public enum WordSwapMode
{
    /// <summary>A fixed out-of-vocabulary string (the paper's TextAttack AAAWordSwap uses "AAA").</summary>
    [CliName("oov")]
    OutOfVocabulary,

    /// <summary>A different word drawn uniformly from a supplied vocabulary.</summary>
    [CliName("random")]
    RandomSubstitution,
}
