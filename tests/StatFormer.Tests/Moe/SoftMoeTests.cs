using StatFormer.Language.Models;
using StatFormer.Moe;
using StatFormer.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Moe;

/// <summary>
/// Soft MoE against a loop written from the paper's definitions (slot logits, dispatch = softmax over tokens per slot,
/// combine = softmax over slots per token, slots as weighted averages, experts per slot), forward and gradients; the
/// weights' normalisation axes; permutation equivariance over an image's tokens; AC-Soft MoE's blended cluster weights.
/// </summary>
public class SoftMoeTests
{
    private const int D = 4;
    private const int Experts = 2;
    private const int SlotsPerExpert = 2;

    private static SoftMoeFeedForward Layer(MoeKind kind = MoeKind.SoftMoe, int mixSlots = 8)
    {
        torch.manual_seed(17);
        var layer = new SoftMoeFeedForward(D, kind, new MoeOptions
        {
            Experts = Experts, SlotsPerExpert = SlotsPerExpert, ExpertHidden = 3, AcEstimator = AcEstimator.Batch, AcMixSlots = mixSlots,
            AcScaledInput = AcScaledInput.RouterAndExperts,
        });
        using (torch.no_grad()) layer.SlotRouter.Scale.fill_(2.5);       // not 1, so a missing scale would show
        layer.eval();
        return layer;
    }

    private static Tensor Tokens(int images = 2, int tokens = 3, int seed = 5) => torch.randn(new long[] { images, tokens, D }, generator: new Generator((ulong)seed));

    /// <summary>The layer by loops over images, slots and tokens, from scalars: the paper's Algorithm 1 with its normalisation.</summary>
    private static Tensor LoopReference(SoftMoeFeedForward layer, Tensor x)
    {
        var phi = layer.SlotRouter.SlotEmbeddings;
        var scale = layer.SlotRouter.Scale;
        var (b, m, slots) = ((int)x.shape[0], (int)x.shape[1], Experts * SlotsPerExpert);
        var outputs = new List<Tensor>();
        for (var image = 0; image < b; image++)
        {
            var logit = new Tensor[m, slots];
            for (var i = 0; i < m; i++)
                for (var s = 0; s < slots; s++)
                {
                    var xi = x[image, i];
                    logit[i, s] = scale * (xi * phi[s]).sum() / (xi.pow(2).sum().sqrt() * phi[s].pow(2).sum().sqrt());
                }
            var slotOutputs = new Tensor[slots];
            for (var s = 0; s < slots; s++)
            {
                var normaliser = Enumerable.Range(0, m).Select(i => logit[i, s].exp()).Aggregate((p, q) => p + q);
                var slotInput = Enumerable.Range(0, m).Select(i => logit[i, s].exp() / normaliser * x[image, i]).Aggregate((p, q) => p + q);
                var e = s / SlotsPerExpert;
                slotOutputs[s] = nn.functional.gelu(slotInput.matmul(layer.ExpertInputWeight[e]) + layer.ExpertInputBias[e]).matmul(layer.OutputProjectionWeight[e]) + layer.ExpertOutputBias[e];
            }
            var rows = new List<Tensor>();
            for (var i = 0; i < m; i++)
            {
                var normaliser = Enumerable.Range(0, slots).Select(s => logit[i, s].exp()).Aggregate((p, q) => p + q);
                rows.Add(Enumerable.Range(0, slots).Select(s => logit[i, s].exp() / normaliser * slotOutputs[s]).Aggregate((p, q) => p + q));
            }
            outputs.Add(torch.stack(rows));
        }
        return torch.stack(outputs);
    }

    [Fact]
    public void ForwardAndGradientsMatchTheLoopReference()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Layer();
        var x = Tokens();
        var leaf = x.clone().requires_grad_(true);
        var output = layer.forward(leaf, null).Output;
        var referenceLeaf = x.clone().requires_grad_(true);
        var expected = LoopReference(layer, referenceLeaf);
        Assert.True(torch.allclose(output, expected, rtol: 1e-5, atol: 1e-6), $"max |Δ| {(output - expected).abs().max().item<float>()}");

        var probe = torch.randn(output.shape, generator: new Generator(9));
        (output * probe).sum().backward();
        var layerGrads = layer.parameters().Select(p => p.grad!.clone()).ToList();
        var tokenGrad = leaf.grad!.clone();
        layer.zero_grad();
        (expected * probe).sum().backward();
        Assert.True(torch.allclose(tokenGrad, referenceLeaf.grad!, rtol: 1e-4, atol: 1e-6));
        var named = layer.named_parameters().ToList();
        for (var i = 0; i < named.Count; i++)
        {
            Assert.True(torch.allclose(layerGrads[i], named[i].parameter.grad!, rtol: 1e-4, atol: 1e-6), named[i].name);
            Assert.True(layerGrads[i].abs().sum().item<float>() > 0, $"{named[i].name} gets no gradient");
        }
        Assert.Contains(named, p => p.name.EndsWith("scale", StringComparison.Ordinal));
    }

    [Fact]
    public void DispatchSumsToOneOverTokensAndCombineOverSlots()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Layer();
        var x = Tokens(images: 3, tokens: 5);
        var (dispatch, combine) = layer.Weights(x, null);
        Assert.Equal(new long[] { 3, 5, Experts * SlotsPerExpert }, dispatch.shape);
        Assert.True(torch.allclose(dispatch.sum(1), torch.ones(3, Experts * SlotsPerExpert), atol: 1e-6));   // per image and slot
        Assert.True(torch.allclose(combine.sum(2), torch.ones(3, 5), atol: 1e-6));                           // per token
        // Not the other way round: a slot's weights over tokens are not a token's over slots.
        Assert.False(torch.allclose(dispatch.sum(2), torch.ones(3, 5), atol: 1e-3));
        Assert.True(dispatch.min().item<float>() > 0 && combine.min().item<float>() > 0);                  // nothing dropped
        // Images do not mix: changing image 1 leaves image 0's output unchanged.
        var edited = x.clone();
        edited[1] = torch.randn(5, D, generator: new Generator(3));
        Assert.True(torch.allclose(layer.forward(x, null).Output[0], layer.forward(edited, null).Output[0]));
    }

    public static IEnumerable<object[]> Kinds() => [[MoeKind.SoftMoe], [MoeKind.AcSoftMoe]];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void PermutingAnImagesTokensPermutesTheOutput(MoeKind kind)
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Layer(kind, mixSlots: 3);
        var x = Tokens(images: 2, tokens: 6);
        var previous = PreviousRouting(2 * 6);
        var permutation = torch.tensor(new long[] { 4, 0, 5, 2, 1, 3 });
        var output = layer.forward(x, previous).Output;
        var permutedPrevious = new RoutingState(
            previous.TopIndices.view(2, 6, -1).index_select(1, permutation).reshape(12, -1),
            previous.GateWeights.view(2, 6, -1).index_select(1, permutation).reshape(12, -1));
        var permuted = layer.forward(x.index_select(1, permutation), permutedPrevious).Output;
        Assert.True(torch.allclose(permuted, output.index_select(1, permutation), rtol: 1e-5, atol: 1e-6));
    }

    /// <summary>A previous Soft MoE layer's hand-on: the clusters of each token's top 3 slots (column 0 the top) and their softmax weights.</summary>
    private static RoutingState PreviousRouting(int tokens)
    {
        var top = torch.tensor(Enumerable.Range(0, tokens).SelectMany(i => new long[] { i % Experts, (i + 1) % Experts, i / 2 % Experts }).ToArray()).reshape(tokens, 3);
        var gates = torch.tensor(Enumerable.Range(0, tokens).SelectMany(i => new[] { 0.6f, 0.3f, 0.1f }).ToArray()).reshape(tokens, 3);
        return new RoutingState(top, gates);
    }

    /// <summary>
    /// AC-Soft MoE by hand: the AC weights of the clusters (the previous top slots' experts), blended per token by the softmax
    /// weights of its top slots, scale the token; the scaled token enters the slot logits and the slots.
    /// </summary>
    [Fact]
    public void AcSoftMoeBlendsTheClusterWeightsOverTheTopSlotsAndScalesLogitsAndSlots()
    {
        using var scope = torch.NewDisposeScope();
        using var ac = Layer(MoeKind.AcSoftMoe, mixSlots: 3);
        var x = Tokens(images: 2, tokens: 6, seed: 8);
        var previous = PreviousRouting(12);
        var flat = x.reshape(12, D);
        var clusterWeights = AdaptiveClusteringWeights.Compute(flat, previous.TopIndices.select(1, 0), Experts);      // [K,d]
        var blended = torch.zeros(12, D);
        for (var j = 0; j < 3; j++)
            blended = blended + previous.GateWeights[.., j].unsqueeze(1) * clusterWeights.index_select(0, previous.TopIndices[.., j]);
        var scaled = (flat * blended).reshape(2, 6, D);
        Assert.True((blended - 1).abs().max().item<float>() > 1e-2);                      // the weights do something here

        // The plain Soft MoE layer with the same parameters, on the scaled tokens, is the AC layer on the raw ones.
        using var plain = Layer(MoeKind.SoftMoe);
        using (torch.no_grad())
        {
            var acParameters = ac.named_parameters().ToDictionary(p => p.name.Replace("router.baseRouter.", "router."), p => p.parameter);
            foreach (var (name, p) in plain.named_parameters()) p.copy_(acParameters[name]);
        }
        var expected = plain.forward(scaled, null).Output;
        var output = ac.forward(x, previous).Output;
        Assert.True(torch.allclose(output, expected, rtol: 1e-5, atol: 1e-6), $"max |Δ| {(output - expected).abs().max().item<float>()}");

        // It hands on the experts of each token's top slots (column 0 the top slot's) and their softmax weights.
        var (dispatch, _) = plain.Weights(scaled, null);
        var routing = ac.forward(x, previous).Routing;
        Assert.Equal(new long[] { 12, 3 }, routing.TopIndices.shape);
        Assert.True(torch.allclose(routing.GateWeights.sum(1), torch.ones(12), atol: 1e-6));
        Assert.True(routing.TopIndices.max().item<long>() < Experts);
        Assert.Equal(new long[] { 2, 6, Experts * SlotsPerExpert }, dispatch.shape);
    }

    [Fact]
    public void ALanguageModelRefusesSoftMoe()
    {
        var config = new LmConfig { VocabSize = 50 } with { Stack = new LmConfig().Stack with { Moe = new MoeLayout { Router = MoeKind.SoftMoe } } };
        var error = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Equal("Stack.Moe.Router", error.ParamName);
        Assert.Contains("image models only", error.Message);
        var options = new TransformerStackOptions { Layers = 2, DModel = 8, Heads = 2, Moe = new MoeLayout { Router = MoeKind.AcSoftMoe } };
        Assert.Throws<ArgumentException>(() => new TransformerStack(options, causal: true));
        using var encoder = new TransformerStack(options, causal: false);
        Assert.NotNull(encoder.Blocks[0].SoftMixtureOfExperts);
        Assert.Null(encoder.Blocks[0].MixtureOfExperts);
        Assert.Equal(MoeKind.SoftMoe, encoder.Blocks[0].SoftMixtureOfExperts!.Kind);      // the first MoE layer: the base router
        Assert.Equal(MoeKind.AcSoftMoe, encoder.Blocks[1].SoftMixtureOfExperts!.Kind);
        Assert.Equal(4 * 8, options.EffectiveExpertHidden);                                 // a slot's expert is as wide as the dense FFN
    }
}
