using StatFormer.Language.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Generation;

public class TokenSamplerTests
{
    private static double[] Probabilities(double[] logits, SamplingOptions options)
    {
        using var filtered = TokenSampler.FilteredLogProbs(torch.tensor(logits), options);
        using var probabilities = filtered.exp();
        return probabilities.data<double>().ToArray();
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-12, $"[{i}] {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void TemperatureDividesTheLogits()
    {
        // logits 0, ln 4 at temperature 2 are 0, ln 2: probabilities 1/3, 2/3.
        AssertClose([1.0 / 3, 2.0 / 3], Probabilities([0, Math.Log(4)], new SamplingOptions { Temperature = 2 }));
    }

    [Fact]
    public void TopKKeepsTheKMostLikelyAndRenormalises()
    {
        // logits 1, 3, 2, 0 with k = 2 keep ids 1 and 2: e³/(e³+e²) and e²/(e³+e²).
        var z = Math.Exp(3) + Math.Exp(2);
        AssertClose([0, Math.Exp(3) / z, Math.Exp(2) / z, 0], Probabilities([1, 3, 2, 0], new SamplingOptions { TopK = 2 }));
        // k of at least the vocabulary keeps everything.
        var all = Math.Exp(1) + Math.Exp(3) + Math.Exp(2) + 1;
        AssertClose([Math.Exp(1) / all, Math.Exp(3) / all, Math.Exp(2) / all, 1 / all], Probabilities([1, 3, 2, 0], new SamplingOptions { TopK = 4 }));
    }

    [Theory]
    [InlineData(0.5, new[] { 1.0, 0, 0, 0 })]                      // the top token alone reaches 0.5
    [InlineData(0.7, new[] { 0.625, 0.375, 0, 0 })]                 // 0.5 < 0.7 ≤ 0.8: two tokens, 0.5/0.8 and 0.3/0.8
    [InlineData(0.81, new[] { 0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0 })]
    [InlineData(0.1, new[] { 1.0, 0, 0, 0 })]                       // the most likely token always stays
    public void TopPKeepsTheSmallestSetReachingP(double p, double[] expected)
    {
        // Probabilities 0.15, 0.5, 0.05, 0.3 in shuffled order, so the filter must sort and scatter back.
        var logits = new[] { 0.15, 0.5, 0.05, 0.3 }.Select(p => Math.Log(p)).ToArray();
        var reordered = new[] { expected[2], expected[0], expected[3], expected[1] };
        AssertClose(reordered, Probabilities(logits, new SamplingOptions { TopP = p }));
    }

    [Fact]
    public void TopKThenTopP()
    {
        // k = 3 leaves 0.5, 0.3, 0.15 (renormalised by 0.95); p = 0.6 then needs the first two: 0.5/0.8, 0.3/0.8.
        var logits = new[] { 0.5, 0.3, 0.15, 0.05 }.Select(p => Math.Log(p)).ToArray();
        AssertClose([0.625, 0.375, 0, 0], Probabilities(logits, new SamplingOptions { TopK = 3, TopP = 0.6 }));
    }

    [Fact]
    public void GreedyPicksTheArgmaxWithTheModelsLogProb()
    {
        using var sampler = new TokenSampler(new SamplingOptions { Temperature = 0 }, seed: 0);
        var logits = new[] { 0.2, 1.5, -3.0, 1.4 };
        var drawn = sampler.Sample(torch.tensor(logits, dtype: ScalarType.Float32));
        Assert.Equal(1, drawn.Id);
        Assert.Equal(0.0, drawn.LogProb);   // a point mass
        var logSum = Math.Log(logits.Sum(Math.Exp));
        Assert.True(Math.Abs(1.5 - logSum - drawn.ModelLogProb) < 1e-6, $"{drawn.ModelLogProb}");
    }

    [Fact]
    public void SameSeedSameDrawsAndTheFilterIsRespected()
    {
        List<int> Draws(long seed)
        {
            using var sampler = new TokenSampler(new SamplingOptions { Temperature = 1.5, TopK = 5 }, seed);
            using var logits = torch.arange(10, dtype: ScalarType.Float32) * 0.3;
            torch.manual_seed(seed + 100);   // the global RNG does not matter
            return Enumerable.Range(0, 200).Select(_ => sampler.Sample(logits).Id).ToList();
        }
        var first = Draws(3);
        Assert.Equal(first, Draws(3));
        Assert.NotEqual(first, Draws(4));
        Assert.All(first, id => Assert.InRange(id, 5, 9));   // top-5 of increasing logits
        Assert.True(first.Distinct().Count() > 1);
    }

    [Fact]
    public void LogProbIsThatOfTheFilteredDistribution()
    {
        using var sampler = new TokenSampler(new SamplingOptions { TopK = 2 }, seed: 1);
        var logits = new[] { 1.0, 3.0, 2.0, 0.0 };
        var drawn = sampler.Sample(torch.tensor(logits));
        var z = Math.Log(Math.Exp(3) + Math.Exp(2));
        Assert.True(Math.Abs(logits[drawn.Id] - z - drawn.LogProb) < 1e-12);
        Assert.True(Math.Abs(logits[drawn.Id] - Math.Log(logits.Sum(Math.Exp)) - drawn.ModelLogProb) < 1e-12);
    }

    [Theory]
    [InlineData(-1.0, null, 1.0, "Temperature")]
    [InlineData(1.0, 0, 1.0, "TopK")]
    [InlineData(1.0, null, 0.0, "TopP")]
    [InlineData(1.0, null, 1.5, "TopP")]
    public void BadOptionsNameTheProperty(double temperature, int? topK, double topP, string property)
    {
        var e = Assert.Throws<ArgumentException>(() => new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP }.Validate());
        Assert.Equal(property, e.ParamName);
    }
}
