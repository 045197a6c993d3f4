using StatFormer.Options;

namespace StatFormer.Language.Evaluation;

/// <summary>How much text the periodic and the final evaluation of a language model score, and with which windows.</summary>
public sealed record LmEvalOptions
{
    /// <summary>Validation tokens used by the periodic evaluation during training (0: all).</summary>
    public int ValidTokens { get; init; } = 32_768;

    /// <summary>Tokens of valid/test used by the final evaluation (0: all).</summary>
    public int EvalTokens { get; init; }

    /// <summary>Sliding-window stride of the final evaluation; null: non-overlapping windows.</summary>
    public int? Stride { get; init; }

    /// <param name="seqLen">The model's context length, which bounds <see cref="Stride"/>.</param>
    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate(int seqLen)
    {
        // One token scores no prediction: refuse it now rather than after training.
        OptionCheck.Require(ValidTokens is 0 or >= 2, nameof(ValidTokens), $"must be 0 (all) or at least 2 (got {ValidTokens})");
        OptionCheck.Require(EvalTokens is 0 or >= 2, nameof(EvalTokens), $"must be 0 (all) or at least 2 (got {EvalTokens})");
        OptionCheck.Require(Stride is null || (Stride >= 1 && Stride <= seqLen), nameof(Stride), $"must be between 1 and Model.SeqLen ({seqLen}) (got {Stride})");
    }
}
