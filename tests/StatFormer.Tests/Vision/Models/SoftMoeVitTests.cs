using StatFormer.Moe;
using StatFormer.Tests.Vision.Experiments;
using StatFormer.Transformer;
using StatFormer.Vision.Evaluation;
using StatFormer.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Models;

/// <summary>Soft MoE and AC-Soft MoE inside a ViT: it trains, every slot parameter learns, and the routing diagnostics count each token's top slot's expert.</summary>
[Collection(GlobalGeneratorCollection.Name)]
public sealed class SoftMoeVitTests
{
    private static VisionModelOptions Options(MoeKind kind) => new()
    {
        PatchSize = 4, Pooling = VisionPooling.Cls, Normalization = VisionNormalization.None,
        Stack = new TransformerStackOptions
        {
            Layers = 3, DModel = 16, Heads = 2, Dropout = 0, DropPath = 0, FfnMultiplier = 2,
            // V-MoE's layout: MoE in blocks 1 and 2 is every block from block 1; the first (block 1) on the base router.
            Moe = new MoeLayout { Router = kind, Every = 1, FirstMoeLayer = 1, Layer = new MoeOptions { Experts = 4, SlotsPerExpert = 2, AcMixSlots = 3, AcScaledInput = AcScaledInput.RouterAndExperts } },
        },
    };

    [Theory]
    [InlineData(MoeKind.SoftMoe)]
    [InlineData(MoeKind.AcSoftMoe)]
    public void ATinySoftMoeVitLearnsAndEverySlotParameterGetsAGradient(MoeKind kind)
    {
        using var data = LearnableImages.Create(train: 64, test: 16);
        torch.manual_seed(2);
        using var model = new VisionTransformer(VisionModelSpec.For(Options(kind), 1, 8, 8, data.Train.Classes));
        Assert.Null(model.Stack.Blocks[0].SoftMixtureOfExperts);
        Assert.Equal(MoeKind.SoftMoe, model.Stack.Blocks[1].SoftMixtureOfExperts!.Kind);
        Assert.Equal(kind, model.Stack.Blocks[2].SoftMixtureOfExperts!.Kind);
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 3e-3);
        var losses = new List<float>();
        model.train();
        for (var step = 0; step < 40; step++)
        {
            using var scope = torch.NewDisposeScope();
            var (images, labels) = data.Train.Batch(torch.arange(step % 4 * 16, step % 4 * 16 + 16, dtype: ScalarType.Int64));
            optimizer.zero_grad();
            var output = model.Run(images);
            var loss = nn.functional.cross_entropy(output.Logits, labels) + output.AuxiliaryLoss!;
            Assert.Equal(0f, output.AuxiliaryLoss!.item<float>());        // Soft MoE has no balance loss
            loss.backward();
            if (step == 0)
            {
                var slots = model.named_parameters().Where(p => p.name.Contains("slotEmbeddings", StringComparison.Ordinal) || p.name.EndsWith(".scale", StringComparison.Ordinal)).ToList();
                Assert.Equal(4, slots.Count);
                Assert.All(slots, p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, p.name));
            }
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        var first = losses.Take(4).Average();
        var last = losses.TakeLast(4).Average();
        Assert.True(last < 0.5 * first, $"loss {first:F3} → {last:F3}");
    }

    /// <summary>The diagnostics see one column per token, the expert of its top slot (slot logit argmax ÷ slots per expert).</summary>
    [Fact]
    public void RoutingDiagnosticsCountTheTopSlotsExpert()
    {
        using var data = LearnableImages.Create(train: 16, test: 24);
        torch.manual_seed(4);
        using var model = new VisionTransformer(VisionModelSpec.For(Options(MoeKind.AcSoftMoe), 1, 8, 8, data.Test.Classes));
        var routing = VisionEvaluation.Routing(model, data.Test, batchSize: 8)!;
        Assert.Equal(2, routing.Layers.Count);
        Assert.Equal(24 * model.Tokens, routing.Tokens);

        model.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (images, _) = data.Test.Batch(torch.arange(0, 8, dtype: ScalarType.Int64));
        var layers = model.Run(images, recordIntermediates: true).Layers!;
        var recorded = layers[1].Routing!;
        Assert.Equal(new long[] { 8 * model.Tokens, 1 }, recorded.TopIndices.shape);
        // By hand: the slot logits of block 1's input (its LayerNorm'd residual stream), argmax over slots, ÷ 2 slots per expert.
        var block = model.Stack.Blocks[1];
        var ln2 = (nn.Module<Tensor, Tensor>)block.named_children().Single(c => c.name == "ln2").module;
        var input = ln2.call(layers[0].Hidden + Attention(block, layers[0]));
        var logits = block.SoftMixtureOfExperts!.SlotRouter.forward(input.reshape(-1, 16), null).Logits;
        Assert.Equal(logits.argmax(1).div(2, rounding_mode: RoundingMode.floor).data<long>().ToArray(), recorded.TopIndices.select(1, 0).data<long>().ToArray());
        // Its router logits are per expert, and their softmax is the combine weight each expert's slots get from the token.
        var combine = logits.softmax(1).view(-1, 4, 2).sum(2);
        Assert.True(torch.allclose(recorded.RouterLogits.softmax(1), combine, atol: 1e-6));
    }

    /// <summary>Block 1's attention output on block 0's output (the residual branch the block adds before its MoE layer).</summary>
    private static Tensor Attention(TransformerBlock block, TransformerLayerIntermediates previous)
    {
        var ln1 = (nn.Module<Tensor, Tensor>)block.named_children().Single(c => c.name == "ln1").module;
        return block.Attention.forward(ln1.call(previous.Hidden), previous.Values, null).Output;
    }
}
