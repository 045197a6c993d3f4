using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Fairness.Models;

/// <summary>
/// The CCLK ColorMNIST encoder (spec §4.3), LeNet-5 style: conv(3→6,5)–tanh–avgpool2, conv(6→16,5)–tanh–avgpool2,
/// conv(16→120,5)–tanh, Linear(120→84). Input [b,3,32,32]; output the 84-d representation (no activation after the
/// last layer), which the linear probes read.
/// </summary>
public sealed class LeNetEncoder : Module<Tensor, Tensor>
{
    public const int InputSize = 32;

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly AvgPool2d pool;
    private readonly Linear fc;

    public LeNetEncoder(string name = "lenet_encoder") : base(name)
    {
        conv1 = Conv2d(3, 6, 5);
        conv2 = Conv2d(6, 16, 5);
        conv3 = Conv2d(16, 120, 5);
        pool = AvgPool2d(2);
        fc = Linear(120, OutputDim);
        RegisterComponents();
    }

    /// <summary>Dimension of the representation.</summary>
    public int OutputDim => 84;

    public override Tensor forward(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != InputSize || images.shape[3] != InputSize)
            throw new ArgumentException($"LeNetEncoder expects [b,3,{InputSize},{InputSize}], got [{string.Join(",", images.shape)}]", nameof(images));
        using var scope = torch.NewDisposeScope();
        var h = pool.forward(conv1.forward(images).tanh());   // [b,6,14,14]
        h = pool.forward(conv2.forward(h).tanh());            // [b,16,5,5]
        h = conv3.forward(h).tanh().flatten(1);               // [b,120]
        return fc.forward(h).MoveToOuterDisposeScope();
    }
}
