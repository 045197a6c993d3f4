using StatFormer.Interop;
using StatFormer.Language.Models;
using StatFormer.Tests.Cli;
using StatFormer.Transformer;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Interop;

/// <summary>State dicts between StatFormer and real PyTorch, both ways, judged by the logits each side computes.</summary>
[Collection(CliCollection.Name)]
public sealed class StateDictRoundTripTests(ITestOutputHelper output) : IDisposable
{
    private readonly ITestOutputHelper _output = output;

    private readonly string _dir = Directory.CreateTempSubdirectory("statformer-interop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static LmConfig Config(FeedForwardActivation activation) => new()
    {
        VocabSize = 11,
        SeqLen = 8,
        Stack = new TransformerStackOptions { Layers = 2, DModel = 16, Heads = 2, Dropout = 0.0, Activation = activation },
    };

    private static float[] Logits(TransformerLm model, Tensor ids)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        using var logits = model.forward(ids);
        return logits.data<float>().ToArray();
    }

    [Theory]
    [InlineData("state.pt", FeedForwardActivation.Gelu)]
    [InlineData("state.safetensors", FeedForwardActivation.Gelu)]
    [InlineData("state.pt", FeedForwardActivation.GeluTanh)]
    public void A_state_dict_saved_by_pytorch_loads_and_reproduces_its_logits(string file, FeedForwardActivation activation)
    {
        var config = Config(activation);
        var configPath = Path.Combine(_dir, "config.json");
        File.WriteAllText(configPath, config.ToJson());
        PyTorchReference.Run("lm-reference", _dir, configPath);

        using var model = new TransformerLm(config);
        ModelWeights.Load(model, Path.Combine(_dir, file));
        using var ids = PyTorchReference.ReadIds(Path.Combine(_dir, "ids.json"));
        var difference = PyTorchReference.MaxAbsDifference(Logits(model, ids), PyTorchReference.ReadFloats(Path.Combine(_dir, "logits.f32")));
        _output.WriteLine($"max |Δlogit| vs PyTorch {difference:E2}");
        Assert.True(difference < 1e-5, $"max |Δlogit| vs PyTorch {difference:E2}");
    }

    [Theory]
    [InlineData(StateDictFormat.Pytorch, FeedForwardActivation.Gelu)]
    [InlineData(StateDictFormat.Safetensors, FeedForwardActivation.Gelu)]
    [InlineData(StateDictFormat.Safetensors, FeedForwardActivation.GeluTanh)]
    public void An_exported_state_dict_loads_in_pytorch_and_reproduces_our_logits(StateDictFormat format, FeedForwardActivation activation)
    {
        var config = Config(activation);
        torch.manual_seed(7);
        using var model = new TransformerLm(config);
        // Random biases and LayerNorm gains too (our initialisation has zeros and ones there), so every tensor is checked.
        using (torch.no_grad())
            foreach (var p in model.parameters()) p.normal_(0.0, 0.3);
        var weights = Path.Combine(_dir, format == StateDictFormat.Pytorch ? "model.pt" : "model.safetensors");
        ModelWeights.Export(model, weights, format);
        var configPath = Path.Combine(_dir, "config.json");
        File.WriteAllText(configPath, config.ToJson());
        var idsPath = Path.Combine(_dir, "ids.json");
        File.WriteAllText(idsPath, "[[1,5,9,2,0,10,3,3],[4,4,8,6,7,1,0,2]]");

        PyTorchReference.Run("lm-logits", weights, configPath, idsPath, Path.Combine(_dir, "logits.f32"));

        using var ids = PyTorchReference.ReadIds(idsPath);
        var difference = PyTorchReference.MaxAbsDifference(Logits(model, ids), PyTorchReference.ReadFloats(Path.Combine(_dir, "logits.f32")));
        _output.WriteLine($"max |Δlogit| vs PyTorch {difference:E2}");
        Assert.True(difference < 1e-5, $"max |Δlogit| vs PyTorch {difference:E2}");
    }

    [Fact]
    public void Loading_checks_names_and_shapes_and_lists_every_problem_at_once()
    {
        var exported = Path.Combine(_dir, "two-layers.safetensors");
        using (var source = new TransformerLm(Config(FeedForwardActivation.Gelu)))
            ModelWeights.Export(source, exported, StateDictFormat.Safetensors);
        // Three layers and a wider vocabulary: block 2 is missing from the file, the embedding has the wrong shape.
        using var target = new TransformerLm(Config(FeedForwardActivation.Gelu) with { VocabSize = 12, Stack = Config(FeedForwardActivation.Gelu).Stack with { Layers = 3 } });
        var before = ModelWeights.StateDict(target).Select(kv => kv.Value.clone()).ToList();

        var error = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(target, exported));

        Assert.StartsWith($"{exported} does not fit the model: missing: blocks.2.ln1.weight, ", error.Message);
        Assert.Contains("mismatched: tokenEmbedding.weight (file [11,16], model [12,16])", error.Message);
        Assert.DoesNotContain("unexpected", error.Message);
        // Nothing was copied.
        Assert.All(ModelWeights.StateDict(target).Zip(before), pair => Assert.True(pair.First.Value.eq(pair.Second).all().item<bool>()));
    }

    [Fact]
    public void Extra_tensors_in_a_file_are_unexpected()
    {
        using var model = new TransformerLm(Config(FeedForwardActivation.Gelu));
        var tensors = ModelWeights.StateDict(model).ToDictionary(kv => kv.Key, kv => kv.Value);
        using var extra = torch.zeros(3);
        tensors["head.weight"] = extra;
        tensors.Remove("finalNorm.bias");

        var error = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(model, tensors, "a.pt"));

        Assert.Equal("a.pt does not fit the model: missing: finalNorm.bias; unexpected: head.weight", error.Message);
    }

    [Fact]
    public void A_file_that_is_no_state_dict_is_refused_with_its_name()
    {
        var path = Path.Combine(_dir, "notes.safetensors");
        File.WriteAllText(path, "not a tensor file");
        using var model = new TransformerLm(Config(FeedForwardActivation.Gelu));

        var error = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(model, path));

        Assert.StartsWith($"{path}: not a readable state dict", error.Message);
    }
}
