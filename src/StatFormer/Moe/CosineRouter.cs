using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Moe;

/// <summary>
/// The XMoE router (Chi et al. 2022, "On the Representation Collapse of Sparse Mixture of Experts"):
/// tokens are projected to a low-dimensional routing space (Linear(d, r), no bias), and
/// logits[i,e] = cos(P·x_i, emb_e) / τ, with both sides L2-normalised and τ a learnable temperature
/// (stored as log τ) or a fixed one.
/// </summary>
/// <remarks>
/// The ACMoE authors' code differs: its XMoE-style gate normalises only the expert embeddings (the token
/// is not normalised, no temperature) and, in the AC layers, has no projection at all (it scores in the full
/// d-dimensional space). We follow the XMoE paper for this base router; the AC router wraps it unchanged.
/// </remarks>
public sealed class CosineRouter : Router
{
    // Guards the normalisation of an all-zero projection; far below any real token norm.
    private const double NormEpsilon = 1e-6;

    private readonly Linear projection;
    private readonly Parameter expertEmbeddings;
    private readonly Parameter? logTemperature;
    private readonly double fixedTemperature;

    public CosineRouter(int dModel, int experts, int routingDim, double temperature, bool learnableTemperature, string name = "cosine_router")
        : base(name, dModel, experts)
    {
        if (routingDim < 1) throw new ArgumentOutOfRangeException(nameof(routingDim), routingDim, "must be at least 1");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "must be positive");
        RoutingDim = routingDim;
        projection = Linear(dModel, routingDim, hasBias: false);
        var embeddings = torch.empty(experts, routingDim);
        // As in XMoE: orthogonal expert embeddings (the scale is irrelevant after normalisation).
        using (torch.no_grad()) nn.init.orthogonal_(embeddings, gain: 0.32);
        expertEmbeddings = new Parameter(embeddings);
        fixedTemperature = temperature;
        if (learnableTemperature) logTemperature = new Parameter(torch.tensor((float)Math.Log(temperature)));
        RegisterComponents();
    }

    public int RoutingDim { get; }

    /// <summary>The token projection d → r (no bias).</summary>
    public Linear Projection => projection;

    /// <summary>Expert embeddings [E,r] (normalised at every use).</summary>
    public Parameter ExpertEmbeddings => expertEmbeddings;

    /// <summary>The log-temperature parameter, or null when the temperature is fixed.</summary>
    public Parameter? LogTemperature => logTemperature;

    /// <summary>The current temperature τ.</summary>
    public double Temperature => logTemperature is null ? fixedTemperature : Math.Exp(logTemperature.item<float>());

    public override RouterOutput forward(Tensor x, RoutingState? previous)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = nn.functional.normalize(projection.forward(x), p: 2, dim: 1, eps: NormEpsilon);
        var experts = nn.functional.normalize(expertEmbeddings, p: 2, dim: 1, eps: NormEpsilon);
        var cosine = tokens.matmul(experts.t());
        var logits = logTemperature is null ? cosine / fixedTemperature : cosine * (-logTemperature).exp();
        return new RouterOutput(logits.MoveToOuterDisposeScope(), tokens.detach().MoveToOuterDisposeScope());
    }
}
