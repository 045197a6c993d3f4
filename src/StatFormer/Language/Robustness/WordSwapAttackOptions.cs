using StatFormer.Options;

namespace StatFormer.Language.Robustness;

/// <summary>The word-swap attacks applied to the test text of a run (never to training data): one per rate, one shared draw.</summary>
public sealed record WordSwapAttackOptions
{
    /// <summary>Word-swap rates applied to the test text at evaluation.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [0.015, 0.05, 0.10];

    /// <summary>What replaces a word: the out-of-vocabulary token AAA (the paper's protocol) or a random training word.</summary>
    public WordSwapMode Mode { get; init; } = WordSwapMode.OutOfVocabulary;

    /// <summary>Swap counts per line (the paper) or per blank-line separated paragraph.</summary>
    public WordSwapUnit Unit { get; init; } = WordSwapUnit.Line;

    /// <summary>Seeds the corruption draw; the same for every model of a comparison.</summary>
    public int Seed { get; init; }

    /// <summary>The attack at <paramref name="rate"/> with these settings.</summary>
    public WordSwapOptions At(double rate) => new(rate, Mode, Seed: Seed, Unit: Unit);

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        foreach (var rate in Rates)
            OptionCheck.Require(rate is >= 0 and <= 1, nameof(Rates), $"'{rate}' is not a rate between 0 and 1");
        OptionCheck.Require(Enum.IsDefined(Mode), nameof(Mode), $"unknown mode {Mode}");
        OptionCheck.Require(Enum.IsDefined(Unit), nameof(Unit), $"unknown unit {Unit}");
    }
}
