using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Fairness.Models;

/// <summary>
/// Encoder for tabular inputs: Linear(in→hidden)–norm–ReLU, Linear(hidden→hidden)–norm–ReLU, Linear(hidden→out).
/// The norm is BatchNorm1d (default, as in SimCLR-style encoders) or LayerNorm (<see cref="MlpNormalization"/>);
/// the last layer has no activation, so its output is the representation the probes read.
/// </summary>
public sealed class MlpEncoder : Module<Tensor, Tensor>
{
    private readonly Linear layer1;
    private readonly Linear layer2;
    private readonly Linear output;
    private readonly Module<Tensor, Tensor> norm1;
    private readonly Module<Tensor, Tensor> norm2;

    public MlpEncoder(int inputDim, int hiddenDim, int outputDim, MlpNormalization normalization = MlpNormalization.BatchNorm,
        string name = "mlp_encoder") : base(name)
    {
        if (inputDim < 1) throw new ArgumentException($"inputDim must be positive, got {inputDim}", nameof(inputDim));
        if (hiddenDim < 1) throw new ArgumentException($"hiddenDim must be positive, got {hiddenDim}", nameof(hiddenDim));
        if (outputDim < 1) throw new ArgumentException($"outputDim must be positive, got {outputDim}", nameof(outputDim));
        InputDim = inputDim;
        OutputDim = outputDim;
        Normalization = normalization;
        layer1 = Linear(inputDim, hiddenDim);
        layer2 = Linear(hiddenDim, hiddenDim);
        output = Linear(hiddenDim, outputDim);
        norm1 = Norm(normalization, hiddenDim);
        norm2 = Norm(normalization, hiddenDim);
        RegisterComponents();
    }

    public int InputDim { get; }
    public int OutputDim { get; }
    public MlpNormalization Normalization { get; }

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != InputDim)
            throw new ArgumentException($"MlpEncoder expects [b,{InputDim}], got [{string.Join(",", x.shape)}]", nameof(x));
        using var scope = torch.NewDisposeScope();
        var h = functional.relu(norm1.forward(layer1.forward(x)));
        h = functional.relu(norm2.forward(layer2.forward(h)));
        return output.forward(h).MoveToOuterDisposeScope();
    }

    private static Module<Tensor, Tensor> Norm(MlpNormalization normalization, int dim) => normalization switch
    {
        MlpNormalization.BatchNorm => BatchNorm1d(dim),
        MlpNormalization.LayerNorm => LayerNorm(dim),
        _ => throw new ArgumentException($"unknown normalization {normalization}", nameof(normalization)),
    };
}
