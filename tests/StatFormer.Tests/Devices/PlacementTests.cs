using StatFormer.Attention;
using StatFormer.Contrastive;
using StatFormer.Data;
using StatFormer.Fairness.Models;
using StatFormer.Language.Generation;
using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Tests.Attention;
using StatFormer.Training;
using StatFormer.Transformer;
using StatFormer.Vision.Data;
using StatFormer.Vision.Evaluation;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Devices;

/// <summary>
/// Every tensor a model, an evaluation or an attack creates must be created on the model's device. Without a GPU this is
/// checked with libtorch's "meta" device as the process default while the model and its data stay on the CPU: a factory
/// call that names no device (the mistake that breaks a CUDA run, where the default is the CPU) then makes a meta tensor,
/// and the first op that meets a CPU tensor fails ("found at least two devices, meta and cpu") or the result comes out
/// on meta, which the checks below refuse. Parameters on meta would be the direct analogue of a GPU, but libtorch has
/// no meta kernel for index_select (every embedding), so the models cannot run there; and meta mixes silently with
/// CPU tensors in matmul and masked_fill, so it would not catch everything either.
/// </summary>
[Collection(DefaultDeviceCollection.Name)]
public sealed class PlacementTests
{
    private static readonly Device Meta = torch.device(DeviceType.META);

    /// <summary>Runs <paramref name="work"/> with the process's default device set to meta; the model and its data must already exist on the CPU.</summary>
    private static T WithMetaDefault<T>(Func<T> work)
    {
        var previous = get_default_device();
        set_default_device(Meta);
        try
        {
            return work();
        }
        finally
        {
            set_default_device(previous);
        }
    }

    private static void WithMetaDefault(Action work) => WithMetaDefault(() => { work(); return 0; });

    /// <summary>Output and every gradient on the CPU and finite, and at least one parameter reached by the backward pass.</summary>
    private static void AssertOnCpuWithGradients(nn.Module model, Tensor output)
    {
        Assert.Equal(DeviceType.CPU, output.device_type);
        Assert.True(output.isfinite().all().item<bool>(), "non-finite output");
        var withGradient = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            if (p.grad is not { } g) continue;
            withGradient++;
            Assert.True(g.device_type == DeviceType.CPU, $"{name}: gradient on {g.device}");
            Assert.True(g.isfinite().all().item<bool>(), $"{name}: non-finite gradient");
        }
        Assert.True(withGradient > 0, "no parameter got a gradient");
    }

    public static TheoryData<string> LmVariants => ["softmax", "elliptical", "smoe", "xmoe", "ac-smoe", "ac-xmoe", "elliptical+ac-smoe"];

    private static LmConfig Lm(string variant)
    {
        var attention = variant.StartsWith("elliptical", StringComparison.Ordinal) ? AttentionKind.Elliptical : AttentionKind.Softmax;
        var router = variant.Replace("elliptical+", "", StringComparison.Ordinal) switch
        {
            "smoe" => MoeKind.Smoe,
            "xmoe" => MoeKind.Xmoe,
            "ac-smoe" => MoeKind.AcSmoe,
            "ac-xmoe" => MoeKind.AcXmoe,
            _ => MoeKind.None,
        };
        return new LmConfig
        {
            VocabSize = 23, SeqLen = 8,
            Stack = new TransformerStackOptions
            {
                Layers = 3, DModel = 16, Heads = 2, Dropout = 0.1, Attention = attention,
                Moe = new MoeLayout { Router = router, Layer = new MoeOptions { Experts = 4, TopK = 2 } },
            },
        };
    }

    [Theory]
    [MemberData(nameof(LmVariants))]
    public void LanguageModelTrainsAndDecodesWithoutCreatingTensorsOffItsDevice(string variant)
    {
        manual_seed(1);
        using var model = new TransformerLm(Lm(variant));
        using var ids = randint(0, 23, [3, 8], dtype: ScalarType.Int64, device: CPU);
        model.train();
        var (logits, aux) = WithMetaDefault(() =>
        {
            var output = model.Run(ids, recordIntermediates: true);
            var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, 23), ids.reshape(-1));
            if (output.AuxiliaryLoss is { } balance) loss = loss + balance;
            loss.backward();
            return (output.Logits, output.AuxiliaryLoss);
        });
        AssertOnCpuWithGradients(model, logits);
        if (variant.Contains("moe", StringComparison.Ordinal)) Assert.Equal(DeviceType.CPU, aux!.device_type);
        else Assert.Null(aux);

        // Token-by-token decoding with the key/value cache (where the estimator allows it) and the full-window decoder.
        model.eval();
        var prompt = new[] { 1, 2, 3 };
        foreach (var decoderName in TextGenerator.DecoderNames(model))
        {
            var next = WithMetaDefault(() =>
            {
                using var noGrad = no_grad();
                using var decoder = TextGenerator.CreateDecoder(model, decoderName);
                var first = decoder.Start(prompt);
                return decoder.Append((int)first.argmax().item<long>());
            });
            Assert.Equal(DeviceType.CPU, next.device_type);
            Assert.True(next.isfinite().all().item<bool>(), decoderName);
        }
    }

    public static TheoryData<string> VisionVariants => ["softmax", "elliptical", "smoe", "ac-xmoe", "resnet18"];

    private static VisionModelSpec Vision(string variant) => VisionModelSpec.For(new VisionModelOptions
    {
        Architecture = variant == "resnet18" ? VisionArchitecture.Resnet18 : VisionArchitecture.Vit,
        PatchSize = 4,
        Stack = new TransformerStackOptions
        {
            Layers = 3, DModel = 16, Heads = 2, Dropout = 0.1, DropPath = 0.1, FfnMultiplier = 2,
            Attention = variant == "elliptical" ? AttentionKind.Elliptical : AttentionKind.Softmax,
            Moe = new MoeLayout
            {
                Router = variant switch { "smoe" => MoeKind.Smoe, "ac-xmoe" => MoeKind.AcXmoe, _ => MoeKind.None },
                Layer = new MoeOptions { Experts = 4, TopK = 2 },
            },
        },
    }, channels: 3, height: 8, width: 8, classes: 4);

    private static ImageDataset Images(int count)
    {
        using var generator = new Generator(7);
        var pixels = randint(0, 256, [count, 3, 8, 8], dtype: ScalarType.Byte, device: CPU, generator: generator);
        var labels = arange(count, dtype: ScalarType.Int64, device: CPU).remainder(4);
        return new ImageDataset(pixels, labels, ["a", "b", "c", "d"], "placement");
    }

    [Theory]
    [MemberData(nameof(VisionVariants))]
    public void ImageClassifierTrainsAndIsEvaluatedWithoutCreatingTensorsOffItsDevice(string variant)
    {
        manual_seed(2);
        var spec = Vision(variant);
        using var model = VisionModels.Create(spec);
        using var data = Images(12);
        var (images, labels) = data.Batch(0, 8);
        model.train();
        var logits = WithMetaDefault(() =>
        {
            var (output, balance) = model is IAuxiliaryLossModel withAux ? withAux.Run(images) : (model.forward(images), null);
            var loss = nn.functional.cross_entropy(output, labels, label_smoothing: 0.1);
            (balance is null ? loss : loss + balance).backward();
            return output;
        });
        AssertOnCpuWithGradients(model, logits);

        // The evaluations: clean accuracy, per-layer diagnostics and routing (ViT), all on the model's device.
        var clean = WithMetaDefault(() => VisionEvaluation.Clean(model, data, batchSize: 5));
        Assert.Equal(12, clean.Images);
        Assert.True(double.IsFinite(clean.Loss));
        if (model is VisionTransformer vit)
        {
            var layers = WithMetaDefault(() => VisionEvaluation.Layers(vit, data, count: 6, batchSize: 4));
            Assert.Equal(3, layers.Count);
            Assert.All(layers, l => Assert.True(double.IsFinite(l.RepresentationCollapse)));
            var routing = WithMetaDefault(() => VisionEvaluation.Routing(vit, data, batchSize: 5));
            Assert.Equal(variant is "smoe" or "ac-xmoe", routing is not null);
        }
    }

    public static TheoryData<AttackKind> Attacks => new(Enum.GetValues<AttackKind>());

    [Theory]
    [MemberData(nameof(Attacks))]
    public void EveryAttackCreatesItsTensorsOnTheImagesDevice(AttackKind kind)
    {
        manual_seed(3);
        var spec = Vision("elliptical");
        using var model = VisionModels.Create(spec);
        using var data = Images(8);
        var options = new AttackOptions
        {
            Attacks = [kind], Epsilons = [8.0 / 255], PgdSteps = 2, ApgdIterations = 3, SpsaIterations = 2, SpsaSamples = 4, SquareQueries = 5,
            BatchSize = 4, WorstCase = true,
        };
        var result = WithMetaDefault(() => RobustnessEvaluation.Evaluate(model, data, options, spec.Normalization));
        Assert.Equal(8, result.Images);
        var accuracy = Assert.Single(Assert.Single(result.Curves).Points).RobustAccuracy;
        Assert.InRange(accuracy, 0, result.CleanAccuracy);
        using var examples = WithMetaDefault(() => RobustnessEvaluation.Examples(model, data, kind, 8.0 / 255, 4, options, spec.Normalization));
        Assert.Equal(DeviceType.CPU, examples.Adversarial.device_type);
        Assert.True(examples.Adversarial.sub(examples.Clean).abs().max().item<float>() <= 8.0f / 255 + 1e-6f);
    }

    public static TheoryData<ContrastiveMethod, bool> FairModels()
    {
        var data = new TheoryData<ContrastiveMethod, bool>();
        foreach (var method in Enum.GetValues<ContrastiveMethod>()) data.Add(method, false);
        data.Add(ContrastiveMethod.Fare, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(FairModels))]
    public void FairEncoderAndLossTrainWithoutCreatingTensorsOffTheirDevice(ContrastiveMethod method, bool images)
    {
        manual_seed(4);
        const int batch = 8, sensitiveDim = 3;
        nn.Module<Tensor, Tensor> encoder = images ? new LeNetEncoder() : new MlpEncoder(6, 16, 8);
        var representation = encoder is LeNetEncoder lenet ? lenet.OutputDim : 8;
        using var model = new FairContrastiveModel(encoder, representation, new ProjectionHead(representation, 8),
            ContrastiveLossFactory.Create(method, new ContrastiveLossOptions(), sensitiveDim));
        long[] shape = images ? [batch, 3, 32, 32] : [batch, 6];
        using var view1 = randn(shape, device: CPU);
        using var view2 = randn(shape, device: CPU);
        using var z = randn(batch, sensitiveDim, device: CPU);
        using var groups = tensor(new long[] { 0, 1, 0, 1, 1, 0, 0, 1 }, device: CPU);
        model.train();
        var loss = WithMetaDefault(() =>
        {
            var value = model.forward(view1, view2, new SensitiveBatch(z, groups));
            value.backward();
            return value;
        });
        AssertOnCpuWithGradients(model, loss);
        if (model.ContrastiveLoss is FareLoss fare)
        {
            var diagnostics = WithMetaDefault(() =>
            {
                using var noGrad = no_grad();
                return fare.Diagnose(new SensitiveBatch(z, groups));
            });
            Assert.True(double.IsFinite(diagnostics.MeanEntropy));
        }
    }

    [Fact]
    public void SeededDrawsAreTheSameNumbersWhateverTheDefaultDevice()
    {
        // Attacks draw from a CPU generator on the CPU and move the draws: the same seed gives the same numbers on every device.
        using var first = new Generator(11);
        using var expected = SeededDrawsOf(first);
        using var second = new Generator(11);
        using var actual = WithMetaDefault(() => SeededDrawsOf(second));
        Assert.Equal(DeviceType.CPU, actual.device_type);
        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    private static Tensor SeededDrawsOf(Generator generator) => cat(
    [
        SeededDraws.Rand([5], generator, ScalarType.Float32, CPU),
        SeededDraws.Randn([5], generator, ScalarType.Float32, CPU),
        SeededDraws.Randint(0, 9, [5], generator, ScalarType.Float32, CPU),
    ]);
}
