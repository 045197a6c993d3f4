using StatFormer.Vision.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Robustness;

/// <summary>logits = W·flatten(q(x)) + b, with q the identity or a quantiser round(x·L)/L whose gradient is zero.</summary>
internal sealed class LinearImageModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear;
    private readonly int? quantiseLevels;

    public LinearImageModel(Tensor weight, Tensor bias, int? quantiseLevels = null) : base("linear_image_model")
    {
        linear = nn.Linear(weight.shape[1], weight.shape[0]);
        using (torch.no_grad())
        {
            linear.weight!.copy_(weight);
            linear.bias!.copy_(bias);
        }
        this.quantiseLevels = quantiseLevels;
        RegisterComponents();
    }

    public Tensor Weight => linear.weight!;

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        // round() has a zero gradient: the quantised model masks its gradients while its outputs stay informative.
        var input = quantiseLevels is int levels ? x.mul(levels).round_().div_(levels) : x;
        return linear.forward(input.flatten(1)).MoveToOuterDisposeScope();
    }
}

/// <summary>Flatten → Linear → ReLU → Dropout → Linear, weights drawn from a seeded generator.</summary>
internal sealed class ImageMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly Dropout dropout;
    private readonly Linear output;

    public ImageMlp(int inputs, int hiddenUnits, int classes, int seed) : base("image_mlp")
    {
        hidden = nn.Linear(inputs, hiddenUnits);
        dropout = nn.Dropout(0.5);
        output = nn.Linear(hiddenUnits, classes);
        using var generator = new Generator((ulong)seed);
        using (torch.no_grad())
        {
            hidden.weight!.copy_(torch.randn(hiddenUnits, inputs, generator: generator).mul_(3.0 / Math.Sqrt(inputs)));
            hidden.bias!.zero_();
            output.weight!.copy_(torch.randn(classes, hiddenUnits, generator: generator).mul_(1.0 / Math.Sqrt(hiddenUnits)));
            output.bias!.zero_();
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = dropout.forward(nn.functional.relu(hidden.forward(x.flatten(1).sub(0.5))));
        return output.forward(h).MoveToOuterDisposeScope();
    }
}

internal static class AttackTestData
{
    /// <summary>Random images [n,c,h,w] with pixels in [low, high] (of 255) and uniformly random labels.</summary>
    public static ImageDataset Random(int n, int channels, int size, int classes, int seed, int low = 0, int high = 255)
    {
        using var generator = new Generator((ulong)seed);
        var pixels = torch.randint(low, high + 1, new long[] { n, channels, size, size }, dtype: ScalarType.Byte, generator: generator);
        var labels = torch.randint(0, classes, new long[] { n }, dtype: ScalarType.Int64, generator: generator);
        return new ImageDataset(pixels, labels, Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray(), $"test:seed={seed}");
    }

    /// <summary>The same images relabelled with <paramref name="model"/>'s clean predictions: clean accuracy 1.</summary>
    public static ImageDataset LabelledBy(nn.Module<Tensor, Tensor> model, ImageDataset data)
    {
        model.eval();
        using var all = torch.arange(data.Count, dtype: ScalarType.Int64);
        var (images, _) = data.Batch(all);
        using var noGrad = torch.no_grad();
        using var logits = model.forward(images);
        images.Dispose();
        return new ImageDataset(data.Pixels.clone(), logits.argmax(1), data.ClassNames, data.Source);
    }

    /// <summary>All images of <paramref name="data"/> as float [N,C,H,W] and their labels.</summary>
    public static (Tensor Images, Tensor Labels) All(ImageDataset data)
    {
        using var all = torch.arange(data.Count, dtype: ScalarType.Int64);
        return data.Batch(all);
    }
}
