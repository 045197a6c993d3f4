using StatFormer.Language.Evaluation;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Evaluation;

public class PerplexityEvaluatorTests
{
    /// <summary>All-zero logits: a uniform distribution over V, so every NLL is ln V. Records the training flag it saw.</summary>
    private sealed class UniformModel(int vocab) : nn.Module<Tensor, Tensor>("uniform")
    {
        public bool? TrainingSeenInForward;
        public int Forwards;
        public override Tensor forward(Tensor input)
        {
            TrainingSeenInForward = training;
            Forwards++;
            return zeros(input.shape[0], input.shape[1], vocab);
        }
    }

    /// <summary>Logits = log P(next | current token) from a fixed table, so the NLL does not depend on context or windowing.</summary>
    private sealed class BigramModel(double[,] probabilities) : nn.Module<Tensor, Tensor>("bigram")
    {
        public override Tensor forward(Tensor input)
        {
            int v = probabilities.GetLength(0);
            var flat = new float[v * v];
            for (int i = 0; i < v; i++)
                for (int j = 0; j < v; j++) flat[i * v + j] = (float)Math.Log(probabilities[i, j]);
            var table = tensor(flat, new long[] { v, v });
            return table.index_select(0, input.flatten()).reshape(input.shape[0], input.shape[1], v);
        }
    }

    /// <summary>Logit of token 0 equals the position inside the window; shows which window positions were scored.</summary>
    private sealed class PositionModel(int vocab) : nn.Module<Tensor, Tensor>("position")
    {
        public override Tensor forward(Tensor input)
        {
            long b = input.shape[0], t = input.shape[1];
            var logits = zeros(b, t, vocab);
            logits[.., .., 0] = arange(t, dtype: ScalarType.Float32).expand(b, t);
            return logits;
        }
    }

    private static readonly double[,] Bigram =
    {
        { 0.1, 0.2, 0.3, 0.4 },
        { 0.25, 0.25, 0.25, 0.25 },
        { 0.7, 0.1, 0.1, 0.1 },
        { 0.05, 0.05, 0.5, 0.4 },
    };

    private static readonly long[] TenTokens = { 0, 3, 2, 0, 1, 3, 3, 2, 1, 0 };

    /// <summary>Sum over the 9 transitions of −ln P(x_i | x_{i−1}), written out from the table.</summary>
    private static readonly double BigramMeanNll = -(
        Math.Log(0.4) + Math.Log(0.5) + Math.Log(0.7) + Math.Log(0.2) + Math.Log(0.25) +
        Math.Log(0.4) + Math.Log(0.5) + Math.Log(0.1) + Math.Log(0.25)) / 9;

    public static TheoryData<int, int, int?> Windowings => new()
    {
        { 3, 2, null }, { 4, 1, null }, { 9, 4, null }, { 20, 2, null }, { 1, 3, null },
        { 3, 2, 1 }, { 4, 3, 2 }, { 4, 2, 4 }, { 5, 1, 3 }, { 20, 2, 5 }, { 1, 2, 1 }, { 9, 1, 9 },
    };

    [Theory]
    [MemberData(nameof(Windowings))]
    public void UniformModelHasPerplexityEqualToVocabularySize(int seqLen, int batchSize, int? stride)
    {
        var result = PerplexityEvaluator.Evaluate(new UniformModel(7), TenTokens, seqLen, batchSize, stride);
        Assert.Equal(Math.Log(7), result.MeanNll, 5);
        Assert.Equal(7.0, result.Perplexity, 4);
        Assert.Equal(9, result.TokensScored);
    }

    [Theory]
    [MemberData(nameof(Windowings))]
    public void BigramModelMatchesHandComputedNll(int seqLen, int batchSize, int? stride)
    {
        var result = PerplexityEvaluator.Evaluate(new BigramModel(Bigram), TenTokens, seqLen, batchSize, stride);
        Assert.Equal(BigramMeanNll, result.MeanNll, 5);
        Assert.Equal(Math.Exp(BigramMeanNll), result.Perplexity, 4);
        Assert.Equal(9, result.TokensScored);
    }

    [Theory]
    [MemberData(nameof(Windowings))]
    public void ScoredTargetsRestrictTheMeanToTheFlaggedPositions(int seqLen, int batchSize, int? stride)
    {
        // Score only targets at positions 2, 5 and 9: transitions 3→2, 1→3 and 1→0 of the table.
        var flags = new bool[TenTokens.Length];
        flags[2] = flags[5] = flags[9] = true;
        var expected = -(Math.Log(0.5) + Math.Log(0.25) + Math.Log(0.25)) / 3;
        var result = PerplexityEvaluator.Evaluate(new BigramModel(Bigram), TenTokens, seqLen, batchSize, stride, flags);
        Assert.Equal(expected, result.MeanNll, 5);
        Assert.Equal(3, result.TokensScored);
    }

    [Fact]
    public void SlidingWindowScoresOnlyTheLastStrideTargetsOfLaterWindows()
    {
        // 12 tokens, seqLen 4, stride 1: first window scores positions 0..3, the 7 later windows only position 3.
        var ids = new long[12];
        double Nll(int position) => -Math.Log(Math.Exp(position) / (Math.Exp(position) + 2));
        double expected = (Nll(0) + Nll(1) + Nll(2) + Nll(3) + 7 * Nll(3)) / 11;

        var result = PerplexityEvaluator.Evaluate(new PositionModel(3), ids, seqLen: 4, batchSize: 3, stride: 1);

        Assert.Equal(11, result.TokensScored);
        Assert.Equal(expected, result.MeanNll, 5);
    }

    [Fact]
    public void SlidingWindowWithPartialLastStrideScoresTheRemainderOnly()
    {
        // 12 tokens, seqLen 4, stride 3: windows score targets 1-4 (positions 0..3), 5-7 (1..3), 8-10 (1..3), 11 (3).
        var ids = new long[12];
        double Nll(int position) => -Math.Log(Math.Exp(position) / (Math.Exp(position) + 2));
        double expected = (Nll(0) + 3 * Nll(1) + 3 * Nll(2) + 4 * Nll(3)) / 11;

        var result = PerplexityEvaluator.Evaluate(new PositionModel(3), ids, seqLen: 4, batchSize: 2, stride: 3);

        Assert.Equal(11, result.TokensScored);
        Assert.Equal(expected, result.MeanNll, 5);
    }

    [Fact]
    public void DisjointWindowsIncludeTheShorterLastWindow()
    {
        // 12 tokens → 11 targets, seqLen 4: windows of 4, 4 and 3 inputs, every position scored.
        var ids = new long[12];
        double Nll(int position) => -Math.Log(Math.Exp(position) / (Math.Exp(position) + 2));
        double expected = (3 * Nll(0) + 3 * Nll(1) + 3 * Nll(2) + 2 * Nll(3)) / 11;

        var result = PerplexityEvaluator.Evaluate(new PositionModel(3), ids, seqLen: 4, batchSize: 8);

        Assert.Equal(11, result.TokensScored);
        Assert.Equal(expected, result.MeanNll, 5);
    }

    [Fact]
    public void WindowsAreBatched()
    {
        var model = new UniformModel(5);
        // 21 targets, seqLen 4 → five windows of 4 and one of 1; batch 2 → 3 + 1 forwards.
        PerplexityEvaluator.Evaluate(model, new long[22], seqLen: 4, batchSize: 2);
        Assert.Equal(4, model.Forwards);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RunsInEvalModeAndRestoresTheTrainingFlag(bool training)
    {
        var model = new UniformModel(5);
        model.train(training);

        PerplexityEvaluator.Evaluate(model, TenTokens, seqLen: 4, batchSize: 2, stride: 2);

        Assert.False(model.TrainingSeenInForward);
        Assert.Equal(training, model.training);
    }

    [Fact]
    public void TrainingFlagIsRestoredWhenTheModelThrows()
    {
        var model = new BigramModel(Bigram);
        model.train();
        // Token 9 is outside the 4-row table, so the forward pass throws.
        Assert.ThrowsAny<Exception>(() => PerplexityEvaluator.Evaluate(model, new long[] { 0, 9, 1 }, 2, 1));
        Assert.True(model.training);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var model = new UniformModel(3);
        Assert.ThrowsAny<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, new long[] { 1 }, 4, 1));
        Assert.ThrowsAny<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, TenTokens, 0, 1));
        Assert.ThrowsAny<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, TenTokens, 4, 0));
        var tooLarge = Assert.ThrowsAny<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, TenTokens, 4, 1, stride: 5));
        Assert.Equal("stride", tooLarge.ParamName);
        var zero = Assert.ThrowsAny<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, TenTokens, 4, 1, stride: 0));
        Assert.Equal("stride", zero.ParamName);
    }
}
