using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Fairness.Models;

/// <summary>
/// The CCLK "LinearCritic" projection head (spec §4.3): Linear(d→d, no bias)–BatchNorm–ReLU–Linear(d→p, no bias)–
/// BatchNorm(affine = false). The contrastive losses take the cosine of its outputs; the probes never see them.
/// </summary>
public sealed class ProjectionHead : Module<Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly BatchNorm1d hiddenNorm;
    private readonly Linear projection;
    private readonly BatchNorm1d outputNorm;

    public ProjectionHead(int inputDim, int projectionDim = 128, string name = "projection_head") : base(name)
    {
        if (inputDim < 1) throw new ArgumentException($"inputDim must be positive, got {inputDim}", nameof(inputDim));
        if (projectionDim < 1) throw new ArgumentException($"projectionDim must be positive, got {projectionDim}", nameof(projectionDim));
        InputDim = inputDim;
        OutputDim = projectionDim;
        hidden = Linear(inputDim, inputDim, hasBias: false);
        hiddenNorm = BatchNorm1d(inputDim);
        projection = Linear(inputDim, projectionDim, hasBias: false);
        outputNorm = BatchNorm1d(projectionDim, affine: false);
        RegisterComponents();
    }

    public int InputDim { get; }
    public int OutputDim { get; }

    public override Tensor forward(Tensor h)
    {
        if (h.dim() != 2 || h.shape[1] != InputDim)
            throw new ArgumentException($"ProjectionHead expects [b,{InputDim}], got [{string.Join(",", h.shape)}]", nameof(h));
        using var scope = torch.NewDisposeScope();
        var u = functional.relu(hiddenNorm.forward(hidden.forward(h)));
        return outputNorm.forward(projection.forward(u)).MoveToOuterDisposeScope();
    }
}
