using StatFormer.Attention;
using StatFormer.Language.Data;
using StatFormer.Language.Experiments;
using StatFormer.Language.Generation;
using StatFormer.Language.Models;
using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Language.Generation;

public class TextGeneratorTests
{
    private static readonly CharTokenizer Chars = CharTokenizer.Train("abcdefgh \n");

    private static TransformerLm Model(int vocab, int seqLen = 8, AttentionKind attention = AttentionKind.Softmax, EllipticalEstimator? estimator = null)
    {
        torch.manual_seed(11);
        return new TransformerLm(new LmConfig
        {
            VocabSize = vocab, SeqLen = seqLen,
            Stack = new() { Layers = 2, DModel = 16, Heads = 2, Dropout = 0.0, Attention = attention, Estimator = estimator },
        });
    }

    [Fact]
    public void SameSeedSameSamplesAndSamplesDiffer()
    {
        using var model = Model(Chars.VocabSize);
        var options = new GenerationOptions { MaxTokens = 20, Seed = 5, NumSamples = 2 };
        var first = model.Generate(Chars, "abc", options);
        var again = model.Generate(Chars, "abc", options);
        Assert.Equal(first.Select(s => s.Text), again.Select(s => s.Text));
        Assert.Equal(first[0].Tokens.Select(t => t.LogProb), again[0].Tokens.Select(t => t.LogProb));
        Assert.NotEqual(first[0].Text, first[1].Text);   // the second sample continues the sampler's stream
        Assert.NotEqual(first[0].Text, model.Generate(Chars, "abc", options with { Seed = 6 })[0].Text);
        Assert.All(first, s => Assert.Equal(20, s.Tokens.Count));
        Assert.All(first, s => Assert.Equal("length", s.FinishReason));
    }

    [Theory]
    [InlineData(AttentionKind.Softmax, null)]
    [InlineData(AttentionKind.Elliptical, EllipticalEstimator.Causal)]
    [InlineData(AttentionKind.Elliptical, EllipticalEstimator.Sequence)]
    public void GreedyPicksTheArgmaxOfTheWindowEvenBeyondTheContext(AttentionKind attention, EllipticalEstimator? estimator)
    {
        using var model = Model(Chars.VocabSize, seqLen: 6, attention, estimator);
        model.eval();
        var sample = Assert.Single(model.Generate(Chars, "abcd", new GenerationOptions { MaxTokens = 10, Sampling = new() { Temperature = 0 } }));
        var sequence = Chars.Encode("abcd").Select(i => (long)i).ToList();
        using var noGrad = torch.no_grad();
        foreach (var token in sample.Tokens)
        {
            // The last SeqLen tokens condition the next one (the window slides past the context).
            var window = sequence.Skip(Math.Max(0, sequence.Count - 6)).ToArray();
            using var logits = model.forward(torch.tensor(window, new long[] { 1, window.Length }));
            Assert.Equal(logits[0, -1].argmax().item<long>(), token.Id);
            Assert.Equal(0.0, token.LogProb);
            using var modelLogProbs = logits[0, -1].log_softmax(0);
            Assert.True(Math.Abs(modelLogProbs[token.Id].item<float>() - token.ModelLogProb) < 1e-5);
            sequence.Add(token.Id);
        }
        Assert.Equal(Chars.Decode(sample.Tokens.Select(t => t.Id).ToList()), sample.Text);
        // The cache serves every causal model; the sequence estimator sees the whole window, so it decodes with full forwards.
        Assert.Equal(estimator == EllipticalEstimator.Sequence ? "full-window" : "kv-cache", sample.Decoder);
    }

    [Theory]
    [InlineData("softmax", AcEstimator.Running)]
    [InlineData("elliptical", AcEstimator.Running)]
    [InlineData("ac-smoe", AcEstimator.Running)]
    [InlineData("elliptical+ac-xmoe", AcEstimator.Running)]
    [InlineData("ac-smoe", AcEstimator.Batch)]   // not causal: the cache is refused, both decode with full forwards
    public void CacheAndFullWindowGiveTheSameTokensWithinAndBeyondTheContext(string variant, AcEstimator acEstimator)
    {
        var v = ModelVariant.Parse(variant);
        torch.manual_seed(11);
        using var model = new TransformerLm(new LmConfig
        {
            VocabSize = Chars.VocabSize, SeqLen = 8,
            Stack = new()
            {
                Layers = 2, DModel = 16, Heads = 2, Dropout = 0.0, Attention = v.Attention,
                Moe = new() { Router = v.Moe, Layer = new() { Experts = 4, TopK = 2, AcEstimator = acEstimator } },
            },
        });
        var options = new GenerationOptions { MaxTokens = 20, Sampling = new() { Temperature = 0 } };
        var cached = model.Generate(Chars, "abcdef", options)[0];
        var full = model.Generate(Chars, "abcdef", options with { UseCache = false })[0];
        Assert.Equal(acEstimator == AcEstimator.Batch ? "full-window" : "kv-cache", cached.Decoder);
        Assert.Equal("full-window", full.Decoder);
        Assert.Equal(full.Tokens.Select(t => t.Id), cached.Tokens.Select(t => t.Id));
        for (var i = 0; i < full.Tokens.Count; i++)
            Assert.True(Math.Abs(full.Tokens[i].ModelLogProb - cached.Tokens[i].ModelLogProb) < 1e-4, $"token {i}");
    }

    [Fact]
    public void StopStringTruncatesAndIsNeverStreamed()
    {
        using var model = Model(Chars.VocabSize);
        var greedy = new GenerationOptions { MaxTokens = 30, Sampling = new() { Temperature = 0 } };
        var full = model.Generate(Chars, "ab", greedy)[0].Text;
        var stop = full.Substring(5, 2);
        var at = full.IndexOf(stop, StringComparison.Ordinal);
        var streamed = new List<string>();
        var sample = model.Generate(Chars, "ab", greedy with { Stop = ["zz-not-there", stop] }, (_, token) => streamed.Add(token.Text))[0];
        Assert.Equal(full[..at], sample.Text);
        Assert.Equal(sample.Text, string.Concat(streamed));
        Assert.Equal("stop", sample.FinishReason);
        Assert.Equal(at + stop.Length, sample.Tokens.Count);   // one char per token: the stop's last char ends it
        Assert.True(sample.Tokens[^1].CompletesStop);
    }

    [Fact]
    public void TooLongPromptKeepsItsLastTokens()
    {
        using var model = Model(Chars.VocabSize, seqLen: 8);
        var generator = new TextGenerator(model, Chars);
        var prompt = generator.EncodePrompt("abcdefghabcd");
        Assert.Equal(4, prompt.DroppedTokens);
        Assert.Equal(Chars.Encode("efghabcd"), prompt.Ids);
        Assert.Single(generator.Generate("abcdefghabcd", new GenerationOptions { MaxTokens = 3 }));
    }

    [Fact]
    public void WordPromptContinuesItsLineAndEmptyPromptStartsALine()
    {
        var words = WordTokenizer.Train("the cat sat\nthe dog sat\n");
        using var model = Model(words.VocabSize);
        var generator = new TextGenerator(model, words);
        Assert.Equal(words.Encode("the cat")[..^1], generator.EncodePrompt("the cat").Ids);
        Assert.Equal(words.Encode("the cat\n"), generator.EncodePrompt("the cat\n").Ids);
        Assert.Equal([words.EosId], generator.EncodePrompt("").Ids);
        var sample = generator.Generate("the cat", new GenerationOptions { MaxTokens = 5, Seed = 1 })[0];
        // The streamed text is the decoded sequence's suffix after the prompt: words joined by spaces, <eos> as newlines.
        Assert.Equal(words.Decode([.. words.Encode("the cat")[..^1], .. sample.Tokens.Select(t => t.Id)])["the cat".Length..], sample.Text);
    }

    /// <summary>Plays a fixed token sequence (one-hot logits), to test streaming independently of a model.</summary>
    private sealed class ScriptedDecoder(int vocab, IReadOnlyList<int> script) : ITokenDecoder
    {
        private int next;

        public string Name => "scripted";

        public Tensor Start(IReadOnlyList<int> prompt) => Next();

        public Tensor Append(int token) => Next();

        private Tensor Next()
        {
            var logits = torch.zeros(vocab);
            logits[script[next++]] = 10;
            return logits;
        }

        public void Dispose() { }
    }

    [Fact]
    public void BytePiecesOfOneCharacterAreStreamedWhenTheCharacterIsComplete()
    {
        var gpt2 = new Gpt2Tokenizer();
        using var model = Model(16);
        var generator = new TextGenerator(model, gpt2);
        const string text = " 日本 é, ok";
        var script = gpt2.Encode(text);
        // The test is only meaningful if some character is split over several tokens.
        Assert.Contains(script, id => gpt2.Decode([id]).Contains('\uFFFD'));
        var options = new GenerationOptions { MaxTokens = script.Length, Sampling = new() { Temperature = 0 } };
        using var sampler = new TokenSampler(options.Sampling, 0);
        var tokens = generator.Stream(generator.EncodePrompt("Hi"), options, sampler, new ScriptedDecoder(gpt2.VocabSize, script)).ToList();
        Assert.Equal(script, tokens.Select(t => t.Id));
        Assert.Equal(text, string.Concat(tokens.Select(t => t.Text)));
        Assert.All(tokens, t => Assert.DoesNotContain('\uFFFD', t.Text));
    }
}
