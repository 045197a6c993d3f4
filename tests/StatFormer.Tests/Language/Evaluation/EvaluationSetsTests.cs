using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Language.Robustness;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Evaluation;

public class EvaluationSetsTests
{
    /// <summary>Fixed logits, the same at every position: the NLL of a target depends only on the target, never on its context.</summary>
    private sealed class ContextFreeModel(int vocab) : nn.Module<Tensor, Tensor>("context-free")
    {
        private readonly Tensor _logits = arange(vocab, dtype: ScalarType.Float32).mul(0.37f).sin().mul(3f);

        public override Tensor forward(Tensor input) => _logits.expand(input.shape[0], input.shape[1], vocab);
    }

    private static IEnumerable<int> Flagged(bool[] flags) => Enumerable.Range(0, flags.Length).Where(i => flags[i]);

    [Fact]
    public void WordStreamsFlagTheSamePositionsInBothStreamsExactlyWhereTheTokenWasNotSwapped()
    {
        var data = LmDataset.Load(LmDataset.Synthetic, "word");
        var sets = EvaluationSets.Build(data, new LmRunOptions { Attack = new() { Rates = [0.1] } });
        var attacked = Assert.Single(sets.Attacked);
        var untouched = Assert.IsType<EvaluationSets.UntouchedTargets>(attacked.Untouched);

        // A word swap never changes the number of whitespace words, so the word streams stay position-aligned.
        Assert.Equal(sets.Test.Length, attacked.Tokens.Length);
        Assert.Equal(untouched.InClean, untouched.InAttacked);
        var corrupted = 0;
        for (var i = 0; i < sets.Test.Length; i++)
        {
            if (sets.Test[i] != attacked.Tokens[i]) corrupted++;
            if (i > 0) Assert.Equal(sets.Test[i] == attacked.Tokens[i], untouched.InClean[i]);
        }
        Assert.False(untouched.InClean[0]);
        // Every synthetic test word is in the vocabulary and every swapped word becomes <unk>: one changed token per swap.
        Assert.Equal(attacked.WordsSwapped, corrupted);
        Assert.Equal(sets.Test.Length - 1 - corrupted + (sets.Test[0] != attacked.Tokens[0] ? 1 : 0), untouched.Count);
    }

    [Fact]
    public void CappedCharStreamsPairEveryCharacterOutsideTheSwappedWordsWithItselfAndNothingElse()
    {
        const int evalTokens = 3000;
        var data = LmDataset.Load(LmDataset.Synthetic, "char");
        var options = new LmRunOptions { Attack = new() { Rates = [0.1] }, Eval = new() { EvalTokens = evalTokens } };
        var sets = EvaluationSets.Build(data, options);
        var attacked = Assert.Single(sets.Attacked);
        Assert.Equal(evalTokens, sets.Test.Length);
        Assert.Equal(evalTokens, attacked.Tokens.Length);
        var untouched = Assert.IsType<EvaluationSets.UntouchedTargets>(attacked.Untouched);

        // Expected from the attack alone: the clean character p outside every replaced word sits at p + (length change of the
        // replacements before it) in the attacked text, since "AAA" is shorter or longer than the word it replaces.
        var replacements = WordSwapAttack.Apply(data.Corpus.Test,
            options.Attack.At(0.1)).Replacements;
        Assert.Contains(replacements, r => r.AttackedLength != r.CleanLength);
        var expected = new List<(int Clean, int Attacked)>();
        int next = 0, shift = 0;
        for (var p = 0; p < evalTokens; p++)
        {
            while (next < replacements.Count && p >= replacements[next].CleanEnd)
            {
                shift += replacements[next].AttackedLength - replacements[next].CleanLength;
                next++;
            }
            var inside = next < replacements.Count && p >= replacements[next].CleanStart;
            if (!inside && p > 0 && p + shift > 0 && p + shift < evalTokens) expected.Add((p, p + shift));
        }

        Assert.Equal(expected.Select(e => e.Clean), Flagged(untouched.InClean));
        Assert.Equal(expected.Select(e => e.Attacked), Flagged(untouched.InAttacked));
        Assert.Equal(expected.Count, untouched.Count);
        // The pairs are the same characters, and after the first length-changing swap they sit at different positions.
        Assert.All(expected, e => Assert.Equal(sets.Test[e.Clean], attacked.Tokens[e.Attacked]));
        Assert.Contains(expected, e => e.Clean != e.Attacked);
    }

    [Fact]
    public void ScoringEachStreamAtItsOwnFlagsScoresTheSameTargets()
    {
        // Each stream is scored at its own flags (positions differ after a length-changing swap); a model that ignores its
        // context must then get the very same perplexity with both, which fails if either stream is scored at the other's flags.
        var data = LmDataset.Load(LmDataset.Synthetic, "char");
        var sets = EvaluationSets.Build(data, new LmRunOptions { Attack = new() { Rates = [0.1] }, Eval = new() { EvalTokens = 2048 } });
        var attacked = Assert.Single(sets.Attacked);
        var untouched = Assert.IsType<EvaluationSets.UntouchedTargets>(attacked.Untouched);
        using var model = new ContextFreeModel(data.Tokenizer.VocabSize);

        var withAttackedContext = PerplexityEvaluator.Evaluate(model, attacked.Tokens, 64, 8, null, untouched.InAttacked);
        var withCleanContext = PerplexityEvaluator.Evaluate(model, sets.Test, 64, 8, null, untouched.InClean);

        Assert.Equal(untouched.Count, withAttackedContext.TokensScored);
        Assert.Equal(untouched.Count, withCleanContext.TokensScored);
        Assert.Equal(withCleanContext.MeanNll, withAttackedContext.MeanNll, 6);
    }

    [Fact]
    public void Gpt2StreamsPairIdenticalTokensAndLeaveOutEverySwappedWord()
    {
        const int evalTokens = 4000;
        var data = LmDataset.Load(LmDataset.Synthetic, "gpt2");
        var options = new LmRunOptions { Attack = new() { Rates = [0.1] }, Eval = new() { EvalTokens = evalTokens } };
        var sets = EvaluationSets.Build(data, options);
        var attacked = Assert.Single(sets.Attacked);
        var untouched = Assert.IsType<EvaluationSets.UntouchedTargets>(attacked.Untouched);
        var clean = Flagged(untouched.InClean).ToList();
        var inAttacked = Flagged(untouched.InAttacked).ToList();

        Assert.Equal(untouched.Count, clean.Count);
        Assert.Equal(clean.Select(i => sets.Test[i]), inAttacked.Select(j => attacked.Tokens[j]));
        // The made-up words are several BPE tokens and " AAA" is not, so the streams shift against each other.
        Assert.Contains(clean.Zip(inAttacked), p => p.First != p.Second);

        // Each swapped word inside the capped clean text costs at least one target; most targets are kept.
        var coveredChars = data.Tokenizer.EncodeWithSpans(data.Corpus.Test).Spans[evalTokens - 1].End;
        var swapsInside = WordSwapAttack.Apply(data.Corpus.Test,
                options.Attack.At(0.1))
            .Replacements.Count(r => r.CleanEnd <= coveredChars);
        Assert.True(swapsInside > 10);
        Assert.InRange(clean.Count, evalTokens / 2, evalTokens - 1 - swapsInside);
    }
}
