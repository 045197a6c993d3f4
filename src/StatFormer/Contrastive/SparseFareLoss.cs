using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// SparseFARE (spec §2.5): FARE whose attention is restricted to a support S_i found by angular LSH on z,
/// Reformer-style. Each forward draws R ~ N(0,1) of shape [d_z, Buckets/2] from torch's global generator (so a
/// seeded run is reproducible), hashes h(z) = argmax([zR, −zR]), stable-sorts the batch by (bucket, index) and cuts
/// the order into chunks of <see cref="ChunkSize"/> (the last one padded with masked slots). Then
/// S_i = { j ≠ i : chunk(j) ∈ {chunk(i), chunk(i) − 1 (cyclic)} } for <see cref="SparseFareVariant.AdjacentChunk"/>;
/// <see cref="SparseFareVariant.WithinBucket"/> additionally requires bucket(j) = bucket(i), and with the dense
/// implementation it is simply the whole bucket (no chunks). An anchor with an empty support gets FARE_i = 0.
/// The attention softmax is taken over S_i and c_neg is the same as FARE's (B − 1 by default, whatever |S_i|).
/// </summary>
public sealed class SparseFareLoss : FareLoss
{
    public SparseFareLoss(int sensitiveDim, ContrastiveLossOptions options) : base(sensitiveDim, options, "sparse_fare")
    {
        Buckets = options.Buckets;
        Variant = options.Variant;
        ChunkSize = options.ChunkSize;
        Implementation = options.Implementation;
    }

    public int Buckets { get; }
    public SparseFareVariant Variant { get; }
    public int ChunkSize { get; }
    public SparseFareImplementation Implementation { get; }

    /// <summary>For tests: a fixed rotation R [d_z, Buckets/2] used instead of a fresh draw.</summary>
    internal Tensor? InjectedRotation { get; set; }

    public override Tensor forward(Tensor view1, Tensor view2, SensitiveBatch sensitive)
    {
        if (Implementation == SparseFareImplementation.DenseMasked) return base.forward(view1, view2, sensitive);
        using var scope = torch.NewDisposeScope();
        var b = CheckBatch(view1, view2, sensitive, SensitiveDim);
        var (u1, u2) = NormalizedViews(view1, view2);
        var z = PreparedSensitive(sensitive, u1);
        return ChunkedLoss(u1, u2, z, b).MoveToOuterDisposeScope();
    }

    /// <summary>Bucket of each sample [B] and the stable (bucket, index) order [B].</summary>
    internal (Tensor Buckets, Tensor Order) Hash(Tensor z)
    {
        var b = z.shape[0];
        var rotation = InjectedRotation?.to(z.device).to_type(z.dtype)
                       ?? torch.randn(SensitiveDim, Buckets / 2, dtype: z.dtype, device: z.device);
        if (rotation.shape[0] != SensitiveDim || rotation.shape[1] != Buckets / 2)
            throw new ArgumentException($"the LSH rotation must be [{SensitiveDim},{Buckets / 2}], got [{string.Join(",", rotation.shape)}]");
        var projected = z.matmul(rotation);
        var buckets = torch.cat(new[] { projected, -projected }, 1).argmax(1);
        // bucket·B + index is unique, so an ordinary sort of it is the stable sort by (bucket, index).
        var order = (buckets * b + torch.arange(b, device: z.device)).argsort();
        return (buckets, order);
    }

    /// <summary>The support as a dense [B,B] mask, exactly the one the configured implementation uses.</summary>
    protected override Tensor SupportMask(Tensor z)
    {
        var b = z.shape[0];
        var (buckets, order) = Hash(z);
        Tensor allowed;
        if (Variant == SparseFareVariant.WithinBucket && Implementation == SparseFareImplementation.DenseMasked)
        {
            allowed = SameBucket(buckets);
        }
        else
        {
            var chunks = (b + ChunkSize - 1) / ChunkSize;
            var position = order.argsort();                                  // slot of each sample in the sorted order
            var chunk = position.div(ChunkSize, rounding_mode: RoundingMode.floor);
            allowed = chunk.unsqueeze(1).eq(chunk.unsqueeze(0));
            if (chunks > 1) allowed = allowed.logical_or((chunk.unsqueeze(1) - 1 + chunks).remainder(chunks).eq(chunk.unsqueeze(0)));
            if (Variant == SparseFareVariant.WithinBucket) allowed = allowed.logical_and(SameBucket(buckets));
        }
        return IncludePositive ? allowed : allowed.logical_and(ContrastiveMath.OffDiagonal(b, z.device));
    }

    private static Tensor SameBucket(Tensor buckets) => buckets.unsqueeze(1).eq(buckets.unsqueeze(0));

    /// <summary>
    /// Sort-and-chunk: gathers each chunk ([C,c]) and its cyclic predecessor as keys ([C,2c]) and scores only those
    /// blocks ([C,c,2c] attention and view scores); positives are row dot products. Nothing of size B×B is formed.
    /// </summary>
    private Tensor ChunkedLoss(Tensor u1, Tensor u2, Tensor z, long b)
    {
        var device = u1.device;
        var (buckets, order) = Hash(z);
        long c = ChunkSize;
        var chunks = (b + c - 1) / c;
        var slots = chunks * c;
        var slotIndex = slots == b ? order : torch.cat(new[] { order, torch.zeros(slots - b, dtype: ScalarType.Int64, device: device) }, 0);
        var queryValid = (torch.arange(slots, device: device) < b).view(chunks, c);
        var queryIndex = slotIndex.view(chunks, c);

        Tensor Gather(Tensor perSample) => perSample.index_select(0, slotIndex).view(chunks, c, -1);
        // Keys of chunk k: chunk k itself, then chunk k − 1 (cyclic) unless there is only one chunk.
        Tensor Keys(Tensor perChunk) => chunks > 1 ? torch.cat(new[] { perChunk, perChunk.roll(1, 0) }, 1) : perChunk;

        var zQuery = Gather(z);
        var u1Query = Gather(u1);
        var u2Query = Gather(u2);
        var zKey = Keys(zQuery);
        var u1Key = Keys(u1Query);
        var u2Key = Keys(u2Query);
        var keyIndex = Keys(queryIndex);
        var allowed = Keys(queryValid).unsqueeze(1).expand(chunks, c, keyIndex.shape[1]);
        var notSelf = queryIndex.unsqueeze(2).ne(keyIndex.unsqueeze(1));
        if (!IncludePositive) allowed = allowed.logical_and(notSelf);
        if (Variant == SparseFareVariant.WithinBucket)
        {
            var bucketQuery = buckets.index_select(0, slotIndex).view(chunks, c);
            allowed = allowed.logical_and(bucketQuery.unsqueeze(2).eq(Keys(bucketQuery).unsqueeze(1)));
        }

        var positives = (u1Query * u2Query).sum(-1) / Temperature;          // [C,c]
        var crossX = u1Query.matmul(u2Key.transpose(1, 2)) / Temperature;    // f(x_i, y_j)  [C,c,w]
        var crossY = u2Query.matmul(u1Key.transpose(1, 2)) / Temperature;    // f(y_i, x_j)
        var sameX = SameViewNegatives ? u1Query.matmul(u1Key.transpose(1, 2)) / Temperature : null;
        var sameY = SameViewNegatives ? u2Query.matmul(u2Key.transpose(1, 2)) / Temperature : null;
        var terms = AnchorTerms(AttentionLogits(zQuery, zKey), allowed, notSelf, positives, crossX, crossY, sameX, sameY, b);
        return terms.masked_fill(queryValid.logical_not(), 0.0).sum() / b;
    }
}
