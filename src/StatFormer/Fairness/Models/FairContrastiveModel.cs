using StatFormer.Contrastive;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Models;

/// <summary>
/// The one module a fair contrastive run trains and checkpoints: encoder g (whose output is the representation the
/// probes read), projection head and the contrastive loss, whose own parameters (FARE's W_Q, W_K) are trained jointly
/// with the encoder, as in the paper ("FARE and SparseFARE are trained to minimize FAREContrast").
/// </summary>
public sealed class FairContrastiveModel : nn.Module<Tensor, Tensor, SensitiveBatch, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly ProjectionHead head;
    private readonly ContrastiveLoss loss;

    /// <param name="encoder">Inputs → [b, <paramref name="representationDim"/>] representation.</param>
    public FairContrastiveModel(nn.Module<Tensor, Tensor> encoder, int representationDim, ProjectionHead head, ContrastiveLoss loss)
        : base("fair_contrastive_model")
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(loss);
        if (head.InputDim != representationDim)
            throw new ArgumentException($"the projection head reads {head.InputDim} features, the encoder gives {representationDim}", nameof(head));
        RepresentationDim = representationDim;
        this.encoder = encoder;
        this.head = head;
        this.loss = loss;
        RegisterComponents();
    }

    public int RepresentationDim { get; }
    public nn.Module<Tensor, Tensor> Encoder => encoder;
    public ProjectionHead Head => head;
    public ContrastiveLoss ContrastiveLoss => loss;

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// The contrastive loss of two views of the same batch. Both views go through the encoder and head in one pass
    /// (batch statistics of BatchNorm are taken over the 2B views together).
    /// </summary>
    public override Tensor forward(Tensor view1, Tensor view2, SensitiveBatch sensitive)
    {
        using var scope = torch.NewDisposeScope();
        var b = view1.shape[0];
        var projections = head.forward(encoder.forward(torch.cat([view1, view2], 0)));
        var (u1, u2) = (projections.narrow(0, 0, b), projections.narrow(0, b, b));
        return loss.forward(u1, u2, sensitive).MoveToOuterDisposeScope();
    }

    /// <summary>The representation g(x) (pre-projection) in the module's current mode.</summary>
    public Tensor Embed(Tensor inputs) => encoder.forward(inputs);
}
