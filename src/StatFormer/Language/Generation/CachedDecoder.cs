using StatFormer.Language.Models;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Language.Generation;

/// <summary>
/// Decodes with the model's key/value cache (<see cref="TransformerLm.Step"/>): the prompt in one call, then one position per token,
/// each the same logits a full forward over the sequence gives. The cache holds at most the context (SeqLen positions); past it the
/// window must slide, and with learned absolute positions a slid window has to be recomputed, so from then on every token costs one full
/// forward over the last SeqLen tokens (<see cref="FullWindowDecoder"/>): the same tokens condition each prediction as without the cache.
/// </summary>
public sealed class CachedDecoder : ITokenDecoder
{
    public const string DecoderName = "kv-cache";

    private readonly TransformerLm model;
    private readonly Device device;
    private readonly List<int> window = [];
    private KeyValueCache? cache;
    private FullWindowDecoder? slidingWindow;

    /// <exception cref="NotSupportedException">The model is not causal (elliptical sequence estimator, AC batch estimator).</exception>
    public CachedDecoder(TransformerLm model)
    {
        this.model = model;
        device = model.parameters().First().device;
        cache = model.NewCache(1);
    }

    public string Name => DecoderName;

    /// <summary>Whether <paramref name="model"/> can decode with a cache (its every layer is causal).</summary>
    public static bool Supports(TransformerLm model)
    {
        try
        {
            model.NewCache(1).Dispose();
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }

    public Tensor Start(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new ArgumentException("need at least one token to condition on", nameof(prompt));
        if (cache is null || cache.Length > 0) Restart();
        window.Clear();
        window.AddRange(prompt.Skip(Math.Max(0, prompt.Count - model.Config.SeqLen)));
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(window.Select(id => (long)id).ToArray(), new long[] { 1, window.Count }, dtype: ScalarType.Int64, device: device);
        return model.Step(cache!, ids)[0, -1].MoveToOuterDisposeScope();
    }

    public Tensor Append(int token)
    {
        window.Add(token);
        if (slidingWindow is not null) return slidingWindow.Append(token);
        if (cache!.Length == model.Config.SeqLen)
        {
            // The context is full: the window slides from here on.
            slidingWindow = new FullWindowDecoder(model);
            return slidingWindow.Start(window);
        }
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { token }, dtype: ScalarType.Int64, device: device);
        return model.Step(cache, ids)[0].MoveToOuterDisposeScope();
    }

    private void Restart()
    {
        cache?.Dispose();
        slidingWindow = null;
        cache = model.NewCache(1);
    }

    public void Dispose() => cache?.Dispose();
}
