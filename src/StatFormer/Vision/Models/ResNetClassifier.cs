using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Vision.Models;

/// <summary>
/// The convolutional reference: TorchVision for .NET's ResNet-18 (<c>torchvision.models.resnet18(num_classes)</c>) with
/// the channel normalisation inside, images [B,C,H,W] in [0, 1] → logits [B,K].
/// <para>
/// TorchVision's API fixes the stem (a 7×7 stride-2 convolution on 3 channels, then a stride-2 max-pool), which leaves
/// a 32×32 image 8×8 before the first residual stage. For small images (<see cref="ResNetStem.Small"/>, the default)
/// this class therefore runs TorchVision's own layers (bn1, relu, layer1 … layer4, avgpool, fc) behind its own 3×3
/// stride-1 convolution on C channels and skips the max-pool: the standard CIFAR ResNet-18. With
/// <see cref="ResNetStem.ImageNet"/> it runs TorchVision's model unchanged.
/// </para>
/// </summary>
public sealed class ResNetClassifier : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor> relu;
    private readonly Module<Tensor, Tensor>? maxpool;
    private readonly Module<Tensor, Tensor> layer1;
    private readonly Module<Tensor, Tensor> layer2;
    private readonly Module<Tensor, Tensor> layer3;
    private readonly Module<Tensor, Tensor> layer4;
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Module<Tensor, Tensor> fc;

    public ResNetClassifier(VisionModelSpec spec, string name = "resnet18") : base(name)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Model.Architecture != VisionArchitecture.Resnet18) throw new ArgumentException($"the spec is for {spec.Model.Architecture}, not ResNet-18", nameof(spec));
        Spec = spec;
        var resnet = torchvision.models.resnet18(num_classes: spec.Classes);
        var parts = resnet.named_children().ToDictionary(c => c.name, c => (Module<Tensor, Tensor>)c.module);
        bn1 = parts["bn1"];
        relu = parts["relu"];
        layer1 = parts["layer1"];
        layer2 = parts["layer2"];
        layer3 = parts["layer3"];
        layer4 = parts["layer4"];
        avgpool = parts["avgpool"];
        fc = parts["fc"];
        if (spec.Model.Stem == ResNetStem.ImageNet)
        {
            conv1 = parts["conv1"];
            maxpool = parts["maxpool"];
        }
        else
        {
            parts["conv1"].Dispose();
            parts["maxpool"].Dispose();
            var small = Conv2d(spec.Channels, 64, kernel_size: 3, stride: 1, padding: 1, bias: false);
            // As TorchVision initialises its convolutions.
            using (torch.no_grad())
                nn.init.kaiming_normal_(small.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            conv1 = small;
        }
        RegisterComponents();
    }

    public VisionModelSpec Spec { get; }

    public long ParameterCount => parameters().Sum(p => p.numel());

    public override Tensor forward(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != Spec.Channels)
            throw new ArgumentException($"expected images [B,{Spec.Channels},H,W], got [{string.Join(",", images.shape)}]", nameof(images));
        using var scope = torch.NewDisposeScope();
        var x = relu.call(bn1.call(conv1.call(Spec.Normalization.Apply(images))));
        if (maxpool is not null) x = maxpool.call(x);
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return fc.call(avgpool.call(x).flatten(1)).MoveToOuterDisposeScope();
    }
}
