using System.Text.Json.Nodes;
using StatFormer.Attention;
using StatFormer.Interop;
using StatFormer.Language.Models;
using StatFormer.Tests.Cli;
using StatFormer.Tests.Training;
using TorchSharp;
using Xunit.Abstractions;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Interop;

/// <summary>
/// A GPT-2-shaped Hugging Face checkpoint written by PyTorch (random weights, small config, the real key names and
/// layouts) against a GPT-2 forward written in plain PyTorch in the fixture script.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class HfGpt2CheckpointTests : IClassFixture<HfGpt2CheckpointTests.Gpt2Fixture>
{
    private readonly Gpt2Fixture _fixture;

    private readonly ITestOutputHelper _output;

    public HfGpt2CheckpointTests(Gpt2Fixture fixture, ITestOutputHelper output) => (_fixture, _output) = (fixture, output);

    /// <summary>The fixture script's GPT-2 folders (bin: save_pretrained's names and pytorch_model.bin; safetensors: the original names), made once.</summary>
    public sealed class Gpt2Fixture : IDisposable
    {
        private readonly Lazy<string> _root = new(() =>
        {
            var root = Directory.CreateTempSubdirectory("statformer-gpt2-").FullName;
            PyTorchReference.Run("gpt2-reference", root);
            return root;
        });

        public string Root => _root.Value;

        public string Folder(string kind) => Path.Combine(Root, kind);

        public void Dispose()
        {
            if (_root.IsValueCreated) Directory.Delete(_root.Value, recursive: true);
        }
    }

    private static float[] Logits(TransformerLm model, string idsPath)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        using var ids = PyTorchReference.ReadIds(idsPath);
        using var logits = model.forward(ids);
        return logits.data<float>().ToArray();
    }

    private static TransformerLm Load(string folder, int seqLen, AttentionKind attention = AttentionKind.Softmax)
    {
        var checkpoint = HfGpt2Checkpoint.Open(folder);
        var model = new TransformerLm(checkpoint.ConfigFor(new LmConfig { SeqLen = seqLen, Stack = new() { Attention = attention, Dropout = 0.1 } }));
        checkpoint.LoadInto(model);
        return model;
    }

    [Theory]
    [InlineData("bin", 48)]
    [InlineData("safetensors", 48)]
    [InlineData("bin", 16)]
    public void Softmax_logits_match_the_reference_gpt2_forward(string kind, int seqLen)
    {
        using var model = Load(_fixture.Folder(kind), seqLen);

        Assert.Equal("GeluTanh", FeedForwardActivationName(model));
        var difference = PyTorchReference.MaxAbsDifference(Logits(model, Path.Combine(_fixture.Root, "ids.json")),
            PyTorchReference.ReadFloats(Path.Combine(_fixture.Root, "logits.f32")));
        _output.WriteLine($"max |Δlogit| vs the PyTorch GPT-2 forward {difference:E2}");
        Assert.True(difference < 1e-5, $"max |Δlogit| vs the PyTorch GPT-2 forward {difference:E2}");
    }

    private static string FeedForwardActivationName(TransformerLm model) => model.Config.Stack.Activation.ToString();

    [Fact]
    public void Elliptical_attention_runs_on_the_same_weights_in_every_layer_but_the_first()
    {
        using var softmax = Load(_fixture.Folder("bin"), 48);
        using var elliptical = Load(_fixture.Folder("bin"), 48, AttentionKind.Elliptical);

        Assert.Equal(softmax.ParameterCount, elliptical.ParameterCount);
        Assert.IsType<SoftmaxSelfAttention>(elliptical.Stack.Blocks[0].Attention);
        Assert.IsType<EllipticalSelfAttention>(elliptical.Stack.Blocks[1].Attention);
        var ids = Path.Combine(_fixture.Root, "ids.json");
        var (a, b) = (Logits(softmax, ids), Logits(elliptical, ids));
        Assert.All(b, v => Assert.True(float.IsFinite(v)));
        Assert.True(PyTorchReference.MaxAbsDifference(a, b) > 1e-3, "the elliptical metric changed nothing");
    }

    [Fact]
    public void A_config_this_model_cannot_reproduce_is_refused_naming_the_setting()
    {
        using var dir = new TempDir();
        var folder = CopyOf(_fixture.Folder("safetensors"), dir.File("relu"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        config["activation_function"] = "relu";
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => HfGpt2Checkpoint.Open(folder));

        Assert.Equal($"{Path.Combine(folder, "config.json")}: activation_function 'relu' is not GPT-2's tanh-approximated GELU (gelu_new)", error.Message);
    }

    [Fact]
    public void Weights_that_do_not_fit_the_config_list_the_gpt2_keys()
    {
        using var dir = new TempDir();
        var folder = CopyOf(_fixture.Folder("safetensors"), dir.File("deeper"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        config["n_layer"] = 3;
        config["n_positions"] = 64;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        var checkpoint = HfGpt2Checkpoint.Open(folder);
        using var model = new TransformerLm(checkpoint.ConfigFor(new LmConfig { SeqLen = 16 }));

        var error = Assert.Throws<InvalidDataException>(() => checkpoint.LoadInto(model));

        Assert.Contains("missing: h.2.ln_1.weight, h.2.ln_1.bias, h.2.attn.c_attn.weight", error.Message);
        Assert.Contains("mismatched: wpe.weight (file [48,32], model [64,32])", error.Message);
    }

    [Fact]
    public void Lm_eval_and_lm_train_run_from_a_checkpoint_folder()
    {
        using var dir = new TempDir();
        var corpus = dir.File("corpus.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 300).Select(i => $"the cat number {i % 17} sat on the mat and looked at the dog {i % 5} times."));
        var folder = _fixture.Folder("bin");
        string[] common = ["--data", corpus, "--seq-len", "16", "--batch-size", "4", "--eval-tokens", "512", "--attack-rates", "0.1", "--json"];

        var results = new Dictionary<string, double>();
        foreach (var attention in new[] { "softmax", "elliptical" })
        {
            var eval = Run(["lm", "eval", "--hf-checkpoint", folder, "--attention", attention, .. common]);
            Assert.True(eval.ExitCode == 0, eval.ToString());
            var json = eval.Json();
            results[attention] = json.GetProperty("test_ppl").GetDouble();
            Assert.True(json.GetProperty("attacked_test_ppl").GetProperty("0.1").GetDouble() > 1);
        }
        Assert.NotEqual(results["softmax"], results["elliptical"]);

        var train = Run(["lm", "train", "--hf-checkpoint", folder, "--tokenizer", "gpt2", "--attention", "elliptical", "--steps", "2", "--warmup", "1",
            "--out", dir.File("tuned"), "--valid-tokens", "256", .. common]);
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Equal(2, train.Json().GetProperty("steps").GetInt64());

        AssertOneLineError(Run(["lm", "train", "--hf-checkpoint", folder, "--out", dir.File("word"), .. common]), "--tokenizer", "gpt2");
        AssertOneLineError(Run(["lm", "eval", "--hf-checkpoint", folder, "--seq-len", "64", "--data", corpus]), "--seq-len", "n_positions 48");
    }

    private static string CopyOf(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }
}
