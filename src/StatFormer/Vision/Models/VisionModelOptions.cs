using StatFormer.Moe;
using StatFormer.Options;
using StatFormer.Transformer;
using StatFormer.Vision.Data;

namespace StatFormer.Vision.Models;

/// <summary>Which image classifier a run trains.</summary>
public enum VisionArchitecture
{
    /// <summary>A ViT/DeiT-style Transformer on patches (<see cref="VisionTransformer"/>).</summary>
    Vit,
    /// <summary>TorchVision's ResNet-18, the convolutional reference (<see cref="ResNetClassifier"/>).</summary>
    Resnet18,
}

/// <summary>How a ViT turns its token states into one image representation.</summary>
public enum VisionPooling
{
    /// <summary>A learned class token prepended to the patches; its final state is classified (ViT, DeiT).</summary>
    Cls,
    /// <summary>The mean of the patch tokens' final states (no class token).</summary>
    Mean,
}

/// <summary>The first layers of the ResNet reference.</summary>
public enum ResNetStem
{
    /// <summary>For small (CIFAR-sized) images: a 3×3 stride-1 convolution and no max-pool, the usual CIFAR ResNet stem.</summary>
    Small,
    /// <summary>TorchVision's own ImageNet stem: 7×7 stride-2 convolution and a 3×3 stride-2 max-pool (3-channel input).</summary>
    ImageNet,
}

/// <summary>The per-channel normalisation applied inside the model (attacks work in pixel space [0, 1]).</summary>
public enum VisionNormalization
{
    /// <summary>MNIST's statistics for 1-channel images, CIFAR-10's for 3-channel ones, none otherwise.</summary>
    Auto,
    None,
    Mnist,
    Cifar10,
}

/// <summary>
/// The image classifier: a ViT (patch size, pooling, the shared Transformer stack, non-causal) or the ResNet-18
/// reference. The image shape and the number of classes come from the data (<see cref="VisionModelSpec"/>).
/// </summary>
public sealed record VisionModelOptions
{
    public VisionArchitecture Architecture { get; init; } = VisionArchitecture.Vit;

    /// <summary>ViT: side of the square patches (must divide the image's height and width).</summary>
    public int PatchSize { get; init; } = 4;

    /// <summary>ViT: class token or mean pooling.</summary>
    public VisionPooling Pooling { get; init; } = VisionPooling.Cls;

    /// <summary>
    /// ViT: the Transformer blocks (attention softmax or elliptical, width, depth, dropout, drop-path). Small enough to train in
    /// minutes on 2 cores. AC MoE layers feed the scaled token to router and experts, as the authors' image models do.
    /// </summary>
    public TransformerStackOptions Stack { get; init; } = new()
    {
        Layers = 4, DModel = 64, Heads = 4, Dropout = 0.0, DropPath = 0.1, FfnMultiplier = 2,
        Moe = new() { Layer = new() { AcScaledInput = AcScaledInput.RouterAndExperts } },
    };

    /// <summary>ResNet: the stem (small images: 3×3 conv, no max-pool).</summary>
    public ResNetStem Stem { get; init; } = ResNetStem.Small;

    /// <summary>The normalisation inside the model.</summary>
    public VisionNormalization Normalization { get; init; } = VisionNormalization.Auto;

    /// <exception cref="ArgumentException">ParamName is the offending property's path (<c>Stack.Heads</c>).</exception>
    public void Validate()
    {
        OptionCheck.Require(Enum.IsDefined(Architecture), nameof(Architecture), $"unknown architecture {Architecture}");
        OptionCheck.Require(PatchSize >= 1, nameof(PatchSize), $"must be at least 1 (got {PatchSize})");
        OptionCheck.Require(Enum.IsDefined(Pooling), nameof(Pooling), $"unknown pooling {Pooling}");
        OptionCheck.Nested(nameof(Stack), Stack.Validate);
    }

    /// <summary>The variant name of this model in reports: resnet18, or the ViT's attention and MoE router as the LM names them (softmax, elliptical, smoe, elliptical+ac-smoe).</summary>
    public string VariantName => Architecture == VisionArchitecture.Resnet18 ? "resnet18"
        : new Language.Experiments.ModelVariant(Stack.Attention, Stack.Moe.Router).Name;
}

/// <summary>
/// Everything needed to rebuild an image classifier: the model options and what the data fixes (image shape, classes,
/// the normalisation resolved). Stored in checkpoints and summaries.
/// </summary>
public sealed record VisionModelSpec(VisionModelOptions Model, int Channels, int Height, int Width, int Classes, ChannelNormalization Normalization)
{
    /// <summary>The spec of <paramref name="model"/> for images [C,H,W] of <paramref name="classes"/> classes, validated.</summary>
    /// <exception cref="ArgumentException">ParamName is the offending property's path under <c>Model</c>.</exception>
    public static VisionModelSpec For(VisionModelOptions model, int channels, int height, int width, int classes)
    {
        OptionCheck.Nested("Model", model.Validate);
        var normalization = model.Normalization switch
        {
            VisionNormalization.Mnist => ChannelNormalization.Mnist,
            VisionNormalization.Cifar10 => ChannelNormalization.Cifar10,
            VisionNormalization.Auto when channels == 1 => ChannelNormalization.Mnist,
            VisionNormalization.Auto when channels == 3 => ChannelNormalization.Cifar10,
            _ => ChannelNormalization.Identity(channels),
        };
        OptionCheck.Require(normalization.Channels == channels, "Model.Normalization",
            $"{Options.EnumNames.Cli(model.Normalization)} statistics are for {normalization.Channels} channel(s), the images have {channels}");
        OptionCheck.Require(classes >= 2, "Model", $"a classifier needs at least 2 classes (the data has {classes})");
        if (model.Architecture == VisionArchitecture.Vit)
            OptionCheck.Require(height % model.PatchSize == 0 && width % model.PatchSize == 0, "Model.PatchSize",
                $"{model.PatchSize} does not divide the {height}×{width} images");
        else if (model.Stem == ResNetStem.ImageNet)
            OptionCheck.Require(channels == 3, "Model.Stem", $"TorchVision's ImageNet stem takes 3-channel images (these have {channels}); use the small stem");
        return new VisionModelSpec(model, channels, height, width, classes, normalization);
    }

    /// <summary>Patches per image (ViT).</summary>
    public int Patches => Height / Model.PatchSize * (Width / Model.PatchSize);
}
