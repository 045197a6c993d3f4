using static TorchSharp.torch;

namespace StatFormer.Vision.Models;

/// <summary>Builds the classifier a <see cref="VisionModelSpec"/> describes (initialised from the torch generator).</summary>
public static class VisionModels
{
    public static nn.Module<Tensor, Tensor> Create(VisionModelSpec spec) => spec.Model.Architecture switch
    {
        VisionArchitecture.Vit => new VisionTransformer(spec),
        VisionArchitecture.Resnet18 => new ResNetClassifier(spec),
        _ => throw new ArgumentException($"unknown architecture {spec.Model.Architecture}", nameof(spec)),
    };

    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());
}
