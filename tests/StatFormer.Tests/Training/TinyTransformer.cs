using StatFormer.Attention;
using StatFormer.Language.Models;
using TorchSharp;

namespace StatFormer.Tests.Training;

/// <summary>The real model at a size that trains in seconds on two cores.</summary>
internal static class TinyTransformer
{
    public static LmConfig Config(int vocab, AttentionKind attention = AttentionKind.Softmax, double dropout = 0.0) => new()
    {
        VocabSize = vocab, SeqLen = 16,
        Stack = new()
        {
            Layers = 2, DModel = 32, Heads = 2, Dropout = dropout, Attention = attention,
        },
    };

    public static TransformerLm Create(LmConfig config, int seed = 1)
    {
        torch.manual_seed(seed);
        return new TransformerLm(config);
    }
}
