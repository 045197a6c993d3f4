using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// The slot logits of Soft MoE (Puigcerver et al. 2023, with their normalisation): logits[i,s] = scale · ⟨x̂_i, φ̂_s⟩, x̂ and
/// φ̂ the L2-normalised token and slot parameter, scale a learned scalar (initially 1). So the logits are cosines times one
/// shared scale, whatever the width of the model. <see cref="Router.Experts"/> here counts slots (experts × slots per expert).
/// </summary>
public sealed class SlotRouter : Router
{
    // Guards the normalisation of an all-zero vector; far below any real token norm.
    private const double NormEpsilon = 1e-6;

    private readonly Parameter slotEmbeddings;
    private readonly Parameter scale;

    public SlotRouter(int dModel, int slots, string name = "slot_router") : base(name, dModel, slots)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, "must be at least 1");
        var phi = torch.empty(slots, dModel);
        using (torch.no_grad()) nn.init.normal_(phi, 0.0, 1.0 / Math.Sqrt(dModel));
        slotEmbeddings = new Parameter(phi);
        scale = new Parameter(torch.ones(Array.Empty<long>()));
        RegisterComponents();
    }

    /// <summary>The slot parameters φ [S,d] (normalised at every use).</summary>
    public Parameter SlotEmbeddings => slotEmbeddings;

    /// <summary>The learned scale of the cosine logits (a scalar).</summary>
    public Parameter Scale => scale;

    public override RouterOutput forward(Tensor x, RoutingState? previous)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = nn.functional.normalize(x, p: 2, dim: 1, eps: NormEpsilon);
        var slots = nn.functional.normalize(slotEmbeddings, p: 2, dim: 1, eps: NormEpsilon);
        var logits = tokens.matmul(slots.t()) * scale;
        return new RouterOutput(logits.MoveToOuterDisposeScope(), tokens.detach().MoveToOuterDisposeScope());
    }
}
