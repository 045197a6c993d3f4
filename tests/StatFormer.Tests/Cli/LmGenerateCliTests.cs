using System.Text.Json;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class LmGenerateCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Train(string tokenizer, string attention = "softmax")
    {
        var run = _dir.File($"{tokenizer}-{attention}");
        var trained = Run(["lm", "train", "--data", "synthetic", "--tokenizer", tokenizer, "--attention", attention, "--out", run, "--json", .. Tiny(steps: 4)]);
        Assert.True(trained.ExitCode == 0, trained.ToString());
        return run;
    }

    private static List<JsonElement> Samples(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json().EnumerateArray().ToList();
    }

    [Fact]
    public void CharRunStreamsSeededSamplesAndReportsTokens()
    {
        var run = Train("char", "elliptical");
        // Beside perplexity, lm eval reports bits per character for a char run (no bytes: that is GPT-2's).
        var eval = Run("lm", "eval", "--run", run, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var ppl = eval.Json().GetProperty("test_ppl").GetDouble();
        Assert.Equal(Math.Log2(ppl), eval.Json().GetProperty("test_bits_per_character").GetDouble(), 6);   // one target per character
        Assert.Equal(JsonValueKind.Null, eval.Json().GetProperty("test_bits_per_byte").ValueKind);
        var streamed = Run("lm", "generate", "--run", run, "--prompt", "the ", "--max-tokens", "12", "--seed", "3");
        Assert.True(streamed.ExitCode == 0, streamed.ToString());
        Assert.StartsWith("the ", streamed.Stdout);
        Assert.Equal(streamed.Stdout, Run("lm", "generate", "--run", run, "--prompt", "the ", "--max-tokens", "12", "--seed", "3").Stdout);

        var sample = Assert.Single(Samples(Run("lm", "generate", "--run", run, "--prompt", "the ", "--max-tokens", "12", "--seed", "3", "--top-k", "5", "--top-p", "0.9", "--json")));
        var tokens = sample.GetProperty("tokens").EnumerateArray().ToList();
        Assert.Equal(12, tokens.Count);
        Assert.Equal(string.Concat(tokens.Select(t => t.GetProperty("piece").GetString())), sample.GetProperty("text").GetString());
        Assert.All(tokens, t => Assert.True(t.GetProperty("log_prob").GetDouble() >= t.GetProperty("model_log_prob").GetDouble() - 1e-9,
            "filtering and renormalising can only raise a kept token's probability"));
        Assert.Equal("kv-cache", sample.GetProperty("decoder").GetString());

        // Greedy: the point mass has log-probability 0; a stop string taken from the greedy text cuts it there.
        var greedy = Assert.Single(Samples(Run("lm", "generate", "--run", run, "--prompt", "the ", "--max-tokens", "20", "--temperature", "0", "--json")));
        Assert.All(greedy.GetProperty("tokens").EnumerateArray(), t => Assert.Equal(0.0, t.GetProperty("log_prob").GetDouble()));
        var text = greedy.GetProperty("text").GetString()!;
        var stop = text.Substring(4, 2);
        var stopped = Assert.Single(Samples(Run("lm", "generate", "--run", run, "--prompt", "the ", "--max-tokens", "20", "--temperature", "0", "--stop", stop, "--json")));
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.GetProperty("text").GetString());
        Assert.Equal("stop", stopped.GetProperty("finish_reason").GetString());
        var full = Assert.Single(Samples(Run("lm", "generate", "--run", run, "--prompt", "the ", "--max-tokens", "20", "--temperature", "0", "--no-cache", "--json")));
        Assert.Equal("full-window", full.GetProperty("decoder").GetString());
        Assert.Equal(text, full.GetProperty("text").GetString());

        // A prompt longer than the context (16) keeps its last 16 tokens and says so.
        var longPrompt = new string('a', 40);
        var truncated = Run("lm", "generate", "--run", run, "--prompt", longPrompt, "--max-tokens", "4", "--json");
        Assert.Equal(24, Assert.Single(Samples(truncated)).GetProperty("prompt_tokens_dropped").GetInt32());
        Assert.Contains("kept its last 16", truncated.Stderr);
    }

    [Fact]
    public void WordRunReadsThePromptFromStandardInput()
    {
        var run = Train("word");
        var oldIn = Console.In;
        try
        {
            Console.SetIn(new StringReader("the\n"));   // as `echo the |` gives it
            var samples = Samples(Run("lm", "generate", "--run", run, "--max-tokens", "6", "--num-samples", "2", "--seed", "1", "--json"));
            Assert.Equal(2, samples.Count);
            Assert.All(samples, s => Assert.Equal("the", s.GetProperty("prompt").GetString()));
            Assert.All(samples, s => Assert.Equal(6, s.GetProperty("tokens").GetArrayLength()));
            Console.SetIn(new StringReader("the"));
            var streamed = Run("lm", "generate", "--run", run, "--prompt", "-", "--max-tokens", "6", "--num-samples", "2", "--seed", "1");
            Assert.True(streamed.ExitCode == 0, streamed.ToString());
            Assert.Equal(samples.Select(s => "the" + s.GetProperty("text").GetString()!.TrimEnd('\n')),
                streamed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("the", StringComparison.Ordinal)).Take(2));
            Assert.Contains("sample 2/2", streamed.Stderr);
        }
        finally
        {
            Console.SetIn(oldIn);
        }
    }

    [Fact]
    public void Gpt2RunStreamsWholeCharactersAndReportsBitsPerByte()
    {
        var run = Train("gpt2");
        var eval = Run("lm", "eval", "--run", run, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var perByte = eval.Json().GetProperty("test_bits_per_byte").GetDouble();
        Assert.True(double.IsFinite(perByte) && perByte > 0, $"{perByte}");
        // The streamed text is the decoded continuation, whatever byte pieces the tokens are.
        var sample = Assert.Single(Samples(Run("lm", "generate", "--run", run, "--prompt", "日本 é", "--max-tokens", "16", "--seed", "2", "--json")));
        var text = sample.GetProperty("text").GetString()!;
        var streamed = Run("lm", "generate", "--run", run, "--prompt", "日本 é", "--max-tokens", "16", "--seed", "2");
        Assert.True(streamed.ExitCode == 0, streamed.ToString());
        Assert.Equal("日本 é" + text + (text.EndsWith('\n') ? "" : "\n"), streamed.Stdout);
    }

    [Theory]
    [InlineData("--max-tokens", "0")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--top-k", "-2")]
    [InlineData("--temperature", "-1")]
    [InlineData("--num-samples", "0")]
    [InlineData("--stop", "")]
    public void BadOptionsAreOneLineErrorsNamingTheFlag(string flag, string value) =>
        AssertOneLineError(Run("lm", "generate", "--run", _dir.File("unused"), "--prompt", "a", flag, value), flag);

    [Fact]
    public void MissingRunIsAOneLineErrorNamingTheFolder() =>
        AssertOneLineError(Run("lm", "generate", "--run", _dir.File("no-such-run"), "--prompt", "a"), "no-such-run");

    [Fact]
    public void BenchGenerateJson()
    {
        var result = Run("bench", "generate", "--json", "--repeats", "1", "--layers", "1", "--d-model", "16", "--heads", "2", "--vocab", "32",
            "--prompt-tokens", "4", "--new-tokens", "6");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["softmax/full-window", "softmax/kv-cache", "elliptical/full-window", "elliptical/kv-cache"],
            rows.Select(r => $"{r.GetProperty("attention").GetString()}/{r.GetProperty("decoder").GetString()}"));
        Assert.All(rows, r => Assert.True(r.GetProperty("tokens_per_second").GetDouble() > 0));
        Assert.True(json.GetProperty("cache_speedup").GetProperty("elliptical").GetDouble() > 0);
        Assert.True(json.GetProperty("elliptical_over_softmax").GetProperty("kv-cache").GetDouble() > 0);
        AssertOneLineError(Run("bench", "generate", "--new-tokens", "0"), "--new-tokens");
    }
}
