using StatFormer.Analysis;

namespace StatFormer.Language.Evaluation;

/// <summary>Clean and attacked perplexities of a model plus its representation and (MoE models) routing diagnostics.</summary>
/// <param name="TestBitsPerCharacter">Total test NLL in bits over the characters the scored targets cover (see
/// <see cref="EvaluationSets.TargetText"/>); null for the word tokenizer.</param>
/// <param name="TestBitsPerByte">The same over UTF-8 bytes; GPT-2 BPE only.</param>
public sealed record LmEvaluationResult(
    double ValidPpl,
    double TestPpl,
    IReadOnlyDictionary<string, double> AttackedTestPpl,
    IReadOnlyDictionary<string, double> AttackEffectiveRate,
    long EvalTokens,
    IReadOnlyList<double> RepresentationCollapse,
    IReadOnlyDictionary<string, double[]> EllipticalMetric,
    IReadOnlyDictionary<string, ContextAttackPpl> ContextAttack,
    MoeDiagnostics? Routing = null,
    double? TestBitsPerCharacter = null,
    double? TestBitsPerByte = null);

/// <summary>
/// Perplexity at the targets the attack did not touch, with the attacked context and with the clean one: the damage a corrupted
/// context does to the remaining predictions. Unlike perplexity over the whole attacked stream, it does not reward predicting the
/// replacement token (`AAA` → &lt;unk&gt;, which is cheap when &lt;unk&gt; is frequent).
/// </summary>
public sealed record ContextAttackPpl(double Attacked, double Clean)
{
    public double Ratio => Attacked / Clean;
}
