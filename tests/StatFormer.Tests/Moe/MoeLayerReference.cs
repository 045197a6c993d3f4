using StatFormer.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

/// <summary>Hand-side helpers for MoE layer tests: one expert applied directly, and a linear gate set to known values.</summary>
internal static class MoeLayerReference
{
    /// <summary>Expert e of the layer on x, written out: GELU(x·W1[e] + b1[e])·W2[e] + b2[e].</summary>
    public static Tensor Expert(MoeFeedForward layer, long e, Tensor x) =>
        nn.functional.gelu(x.matmul(layer.ExpertInputWeight[e]) + layer.ExpertInputBias[e]).matmul(layer.OutputProjectionWeight[e]) + layer.ExpertOutputBias[e];

    /// <summary>Sets the SMoE gate's weight [E,d] (row-major) and bias [E].</summary>
    public static void SetGate(MoeFeedForward layer, float[] weight, float[] bias)
    {
        var gate = ((LinearRouter)layer.Router).Gate;
        using var noGrad = torch.no_grad();
        gate.weight!.copy_(tensor(weight).reshape(gate.weight.shape));
        gate.bias!.copy_(tensor(bias));
    }
}
