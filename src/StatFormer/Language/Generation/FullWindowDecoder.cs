using StatFormer.Language.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Language.Generation;

/// <summary>
/// Decodes with a plain forward pass over the last <see cref="LmConfig.SeqLen"/> tokens for every new token: O(T²) per token
/// in attention, but correct for every model variant (including the non-causal <c>sequence</c> elliptical estimator, whose metric
/// depends on the whole window). Beyond the context the window slides by one token, positions renumbered from 0, as in training.
/// </summary>
public sealed class FullWindowDecoder : ITokenDecoder
{
    private readonly TransformerLm model;
    private readonly List<int> sequence = [];
    private readonly Device device;

    public FullWindowDecoder(TransformerLm model)
    {
        this.model = model;
        device = model.parameters().First().device;
    }

    public const string DecoderName = "full-window";

    public string Name => DecoderName;

    public Tensor Start(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new ArgumentException("need at least one token to condition on", nameof(prompt));
        sequence.Clear();
        sequence.AddRange(prompt.Skip(Math.Max(0, prompt.Count - model.Config.SeqLen)));
        return NextLogits();
    }

    public Tensor Append(int token)
    {
        sequence.Add(token);
        // Only the window conditions the next token; older tokens are dropped.
        if (sequence.Count > model.Config.SeqLen) sequence.RemoveAt(0);
        return NextLogits();
    }

    private Tensor NextLogits()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.tensor(sequence.Select(id => (long)id).ToArray(), new long[] { 1, sequence.Count }, dtype: ScalarType.Int64, device: device);
        return model.forward(ids)[0, -1].MoveToOuterDisposeScope();
    }

    public void Dispose() { }
}
