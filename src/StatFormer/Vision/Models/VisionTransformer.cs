using StatFormer.Attention;
using StatFormer.Training;
using StatFormer.Transformer;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StatFormer.Vision.Models;

/// <summary>
/// A ViT/DeiT-style image classifier on the shared <see cref="TransformerStack"/> (non-causal): images [B,C,H,W] in
/// [0, 1] → channel normalisation → a P×P stride-P convolution (the patch embedding) → an optional class token →
/// learned positions → dropout → pre-LN blocks (softmax or elliptical attention, dropout, drop-path) → a final
/// LayerNorm → class token or mean of the patch tokens → a linear head: logits [B,K].
/// </summary>
public sealed class VisionTransformer : Module<Tensor, Tensor>, IAuxiliaryLossModel
{
    private readonly Conv2d patchEmbedding;
    private readonly Parameter? classToken;
    private readonly Parameter positionEmbedding;
    private readonly Dropout embeddingDropout;
    private readonly TransformerStack blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear head;

    public VisionTransformer(VisionModelSpec spec, string name = "vision_transformer") : base(name)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Model.Architecture != VisionArchitecture.Vit) throw new ArgumentException($"the spec is for {spec.Model.Architecture}, not a ViT", nameof(spec));
        Spec = spec;
        var stack = spec.Model.Stack;
        var d = stack.DModel;
        var p = spec.Model.PatchSize;
        patchEmbedding = Conv2d(spec.Channels, d, kernel_size: p, stride: p);
        var tokens = spec.Patches + (spec.Model.Pooling == VisionPooling.Cls ? 1 : 0);
        if (spec.Model.Pooling == VisionPooling.Cls) classToken = Parameter(torch.zeros(1, 1, d));
        positionEmbedding = Parameter(torch.zeros(1, tokens, d));
        embeddingDropout = Dropout(stack.Dropout);
        blocks = new TransformerStack(stack, causal: false);
        finalNorm = LayerNorm(d);
        head = Linear(d, spec.Classes);
        RegisterComponents();
        InitialiseWeights();
    }

    public VisionModelSpec Spec { get; }

    public TransformerStack Stack => blocks;

    /// <summary>Tokens per image: the patches, plus the class token with CLS pooling.</summary>
    public int Tokens => (int)positionEmbedding.shape[1];

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// The estimator of every elliptical layer (null when there is none). Settable so that a model trained with the mean
    /// (<see cref="EllipticalEstimator.Sequence"/>) can be evaluated with the authors' attack-time
    /// <see cref="EllipticalEstimator.Median"/>; the weights are the same, so this is a change of the test-time function.
    /// </summary>
    public EllipticalEstimator? Estimator
    {
        get => blocks.Blocks.Select(b => b.Attention).OfType<EllipticalSelfAttention>().Select(a => (EllipticalEstimator?)a.Estimator).FirstOrDefault();
        set
        {
            if (value is not { } estimator) throw new ArgumentNullException(nameof(value), "an estimator is required");
            if (estimator == EllipticalEstimator.Causal) throw new ArgumentException("an image model attends non-causally; the causal (prefix) estimator has no meaning here", nameof(value));
            foreach (var attention in blocks.Blocks.Select(b => b.Attention).OfType<EllipticalSelfAttention>()) attention.Estimator = estimator;
        }
    }

    /// <summary>Logits [B,K] of images [B,C,H,W] in [0, 1].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return Run(images).Logits.MoveToOuterDisposeScope();
    }

    /// <summary>The forward pass; with <paramref name="recordIntermediates"/> also each layer's token states, values and elliptical metric (detached).</summary>
    public VisionTransformerOutput Run(Tensor images, bool recordIntermediates = false)
    {
        if (images.dim() != 4 || images.shape[1] != Spec.Channels || images.shape[2] != Spec.Height || images.shape[3] != Spec.Width)
            throw new ArgumentException($"expected images [B,{Spec.Channels},{Spec.Height},{Spec.Width}], got [{string.Join(",", images.shape)}]", nameof(images));
        using var scope = torch.NewDisposeScope();
        var x = patchEmbedding.forward(Spec.Normalization.Apply(images));            // [B,D,H/P,W/P]
        x = x.flatten(2).transpose(1, 2);                                            // [B,N,D]
        if (classToken is not null) x = torch.cat([classToken.expand(x.shape[0], -1, -1), x], 1);
        x = embeddingDropout.forward(x + positionEmbedding);
        var stack = blocks.forward(x, null, recordIntermediates);
        var tokens = finalNorm.forward(stack.Output);
        var pooled = classToken is not null ? tokens.select(1, 0) : tokens.mean([1]);
        return new VisionTransformerOutput(head.forward(pooled), stack.AuxiliaryLoss, stack.Layers).MoveToOuterDisposeScope();
    }

    (Tensor Logits, Tensor? AuxiliaryLoss) IAuxiliaryLossModel.Run(Tensor inputs)
    {
        var output = Run(inputs);
        return (output.Logits, output.AuxiliaryLoss);
    }

    // ViT/DeiT: positions and class token N(0, 0.02) (truncated in timm; plain here), linear layers N(0, 0.02) with zero
    // biases, the patch convolution like a linear layer on the flattened patch.
    private void InitialiseWeights()
    {
        const double std = 0.02;
        using var noGrad = torch.no_grad();
        foreach (var (paramName, p) in named_parameters())
        {
            if (paramName.StartsWith("patchEmbedding", StringComparison.Ordinal)) continue;
            if (paramName.EndsWith("bias", StringComparison.Ordinal)) nn.init.zeros_(p);
            else if (p.dim() >= 2) nn.init.normal_(p, 0.0, std);
        }
        nn.init.xavier_uniform_(patchEmbedding.weight!.view(patchEmbedding.weight!.shape[0], -1));
        nn.init.zeros_(patchEmbedding.bias!);
    }
}

/// <summary>What <see cref="VisionTransformer.Run"/> returns.</summary>
/// <param name="Logits">[B,K].</param>
/// <param name="AuxiliaryLoss">The MoE load-balancing loss, already weighted (<see cref="TransformerStackOutput.AuxiliaryLoss"/>); null without MoE layers.</param>
/// <param name="Layers">Per layer token states [B,N,D], values and metric (detached) when requested, otherwise null.</param>
public sealed record VisionTransformerOutput(Tensor Logits, Tensor? AuxiliaryLoss, IReadOnlyList<TransformerLayerIntermediates>? Layers)
{
    public VisionTransformerOutput MoveToOuterDisposeScope() => new(Logits.MoveToOuterDisposeScope(), AuxiliaryLoss?.MoveToOuterDisposeScope(),
        Layers?.Select(l => l.MoveToOuterDisposeScope()).ToArray());
}
