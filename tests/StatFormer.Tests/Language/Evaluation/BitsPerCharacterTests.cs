using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Experiments;
using StatFormer.Language.Models;
using TorchSharp;

namespace StatFormer.Tests.Language.Evaluation;

public class BitsPerCharacterTests
{
    [Fact]
    public void TargetTextIsWhatTheTargetsCover()
    {
        // Char: "aébb" scores "ébb", 3 characters.
        var chars = CharTokenizer.Train("abé\n");
        Assert.Equal(new EvaluationSets.TargetTextSize(3, null), EvaluationSets.TargetText(chars, LmBatchSampler.ToIds(chars.Encode("aébb"))));
        // GPT-2: "a" is one token, so the targets of "a é日" cover " é日": 3 characters, 1 + 2 + 3 UTF-8 bytes, however the
        // multi-byte characters are split into byte pieces.
        var gpt2 = new Gpt2Tokenizer();
        var ids = LmBatchSampler.ToIds(gpt2.Encode("a é日"));
        Assert.Equal("a", gpt2.Decode([(int)ids[0]]));
        Assert.Equal(new EvaluationSets.TargetTextSize(3, 6), EvaluationSets.TargetText(gpt2, ids));
        // Words: the decoded text is not the original one, so there is no honest character count.
        var words = WordTokenizer.Train("a b\n");
        Assert.Null(EvaluationSets.TargetText(words, LmBatchSampler.ToIds(words.Encode("a b a\n"))));
    }

    /// <summary>All weights zero: every logit is 0, so each target costs log2 V bits.</summary>
    private static TransformerLm UniformModel(int vocab)
    {
        var model = new TransformerLm(new LmConfig { VocabSize = vocab, SeqLen = 8, Stack = new() { Layers = 1, DModel = 8, Heads = 2, Dropout = 0.0 } });
        using var noGrad = torch.no_grad();
        foreach (var p in model.parameters()) p.zero_();
        return model;
    }

    [Fact]
    public void UniformModelHasLog2VBitsPerTarget()
    {
        var dir = Directory.CreateTempSubdirectory("bpc");
        try
        {
            var file = Path.Combine(dir.FullName, "text.txt");
            File.WriteAllText(file, string.Concat(Enumerable.Repeat("héllo wörld 日本\n", 40)));
            var options = new LmRunOptions { Attack = new() { Rates = [] } };

            // Char: one target per character, so bits per character = log2 V exactly.
            var charData = LmDataset.Load(file, "char");
            using var charModel = UniformModel(charData.Tokenizer.VocabSize);
            var charResult = LmEvaluation.Evaluate(charModel, EvaluationSets.Build(charData, options), batchSize: 4, stride: null);
            Assert.Equal(Math.Log2(charData.Tokenizer.VocabSize), charResult.TestBitsPerCharacter!.Value, 5);   // float32 log-softmax
            Assert.Null(charResult.TestBitsPerByte);

            // GPT-2: (N − 1) log2 50257 bits over the characters and bytes of the test text after its first token.
            var gpt2Data = LmDataset.Load(file, "gpt2");
            using var gpt2Model = UniformModel(50257);
            var sets = EvaluationSets.Build(gpt2Data, options);
            var result = LmEvaluation.Evaluate(gpt2Model, sets, batchSize: 4, stride: null);
            var test = gpt2Data.Corpus.Test;
            var firstToken = gpt2Data.Tokenizer.Decode([(int)sets.Test[0]]);
            var covered = test[firstToken.Length..];
            var bits = (sets.Test.Length - 1) * Math.Log2(50257);
            Assert.Equal(bits / covered.Length, result.TestBitsPerCharacter!.Value, 5);   // float32 log-softmax
            Assert.Equal(bits / System.Text.Encoding.UTF8.GetByteCount(covered), result.TestBitsPerByte!.Value, 5);   // float32 log-softmax
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
