using static TorchSharp.torch;

namespace StatFormer.Transformer;

/// <summary>
/// What a causal <see cref="TransformerStack"/> carries between decoding steps
/// (<see cref="TransformerStack.Step"/>, <c>TransformerLm.Step</c>): per layer the keys and values of the
/// positions so far and the per-sequence state its mechanism needs to treat the next position exactly as
/// a full forward over the whole prefix would (<see cref="LayerCache"/>). The cache owns its tensors
/// (detached from every dispose scope, preallocated to the context) and frees them in <see cref="Dispose"/>.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly LayerCache[] layers;

    internal KeyValueCache(LayerCache[] layers, int batch, int maxLength, int capacityLength, long? expertCapacity)
    {
        this.layers = layers;
        Batch = batch;
        MaxLength = maxLength;
        CapacityLength = capacityLength;
        ExpertCapacity = expertCapacity;
    }

    /// <summary>B, the number of sequences decoded side by side.</summary>
    public int Batch { get; }

    /// <summary>The most positions the cache holds (a language model's context, SeqLen).</summary>
    public int MaxLength { get; }

    /// <summary>
    /// The window length T whose per-sequence MoE capacity ⌈c·T·k/E⌉ decoding applies (a full forward over
    /// T tokens decides capacity with it); by default the context, the window the model was trained on.
    /// </summary>
    public int CapacityLength { get; }

    /// <summary>Assignments an expert takes per sequence, or null without a capacity limit (or MoE).</summary>
    public long? ExpertCapacity { get; }

    /// <summary>Positions decoded so far: the next token goes to this position.</summary>
    public int Length { get; private set; }

    /// <summary>One entry per block of the stack.</summary>
    public IReadOnlyList<LayerCache> Layers => layers;

    internal void Advance(int positions) => Length += positions;

    public void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
    }
}

/// <summary>
/// One block's decoding state. Keys and values [B,H,MaxLength,D] of which the first <see cref="KeyValueCache.Length"/>
/// positions are filled; in an elliptical layer the running sums Σ_{s&lt;t} |V^ℓ_s − V^(ℓ−1)_s| per sequence, head
/// and coordinate (the causal estimator's prefix sums; the count is the cache's length, and its 1/count cancels in
/// m's max-normalisation); in an MoE layer with a capacity limit the assignments each sequence has sent to each
/// expert so far (first come first served needs nothing else).
/// </summary>
public sealed class LayerCache : IDisposable
{
    internal LayerCache(Tensor keys, Tensor values, Tensor? changeSums, Tensor? expertCounts)
    {
        KeyBuffer = keys;
        ValueBuffer = values;
        ChangeSums = changeSums;
        ExpertCounts = expertCounts;
    }

    /// <summary>[B,H,MaxLength,D] keys; positions at and after the cache's length are not yet written.</summary>
    public Tensor KeyBuffer { get; }

    /// <summary>[B,H,MaxLength,D] values, as <see cref="KeyBuffer"/>.</summary>
    public Tensor ValueBuffer { get; }

    /// <summary>
    /// Elliptical layers: [B,H,1,D] float64 prefix sums of |V^ℓ − V^(ℓ−1)| over the positions so far (float64 like the
    /// accumulator of libtorch's CPU cumsum, so a position's sum is rounded exactly as the full forward's); null otherwise.
    /// </summary>
    public Tensor? ChangeSums { get; }

    /// <summary>MoE layers with a capacity limit: [B,E] int64, the assignments each sequence sent to each expert so far (kept or dropped); null otherwise.</summary>
    public Tensor? ExpertCounts { get; }

    public void Dispose()
    {
        KeyBuffer.Dispose();
        ValueBuffer.Dispose();
        ChangeSums?.Dispose();
        ExpertCounts?.Dispose();
    }
}
