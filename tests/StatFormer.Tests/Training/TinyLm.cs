using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Tests.Training;

/// <summary>Stand-in language model for trainer tests: embedding → dropout → linear (a bigram model).</summary>
internal sealed class TinyLm : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly Dropout drop;
    private readonly Linear head;

    public TinyLm(int vocab, int dim, double dropout = 0.0) : base(nameof(TinyLm))
    {
        embed = nn.Embedding(vocab, dim);
        drop = nn.Dropout(dropout);
        head = nn.Linear(dim, vocab);
        RegisterComponents();
    }

    public static TinyLm Create(int vocab, int dim, double dropout = 0.0, int seed = 1)
    {
        torch.manual_seed(seed);
        return new TinyLm(vocab, dim, dropout);
    }

    public override Tensor forward(Tensor ids) => head.call(drop.call(embed.call(ids)));
}
