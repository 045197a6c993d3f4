using System.Text.Json;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Robustness;
using StatFormer.Reporting;

namespace StatFormer.Tests.Reporting;

public class JsonOutputTests
{
    private sealed record AttackSummary(string ModelName, WordSwapMode AttackMode, double AttackRate, PerplexityResult CleanResult, double Diverged);

    [Fact]
    public void UsesSnakeCaseKeysAndEnumValues()
    {
        var json = JsonOutput.Serialize(new AttackSummary("elliptical", WordSwapMode.OutOfVocabulary, 0.015,
            new PerplexityResult(3.5, 33.1, 245568), 1));

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("elliptical", root.GetProperty("model_name").GetString());
        Assert.Equal("out_of_vocabulary", root.GetProperty("attack_mode").GetString());
        Assert.Equal(0.015, root.GetProperty("attack_rate").GetDouble());
        Assert.Equal(245568, root.GetProperty("clean_result").GetProperty("tokens_scored").GetInt64());
        Assert.Equal(3.5, root.GetProperty("clean_result").GetProperty("mean_nll").GetDouble());
        Assert.Contains("\n  ", json);
    }

    [Fact]
    public void WritesNonFiniteNumbersAsNamedLiterals()
    {
        var json = JsonOutput.Serialize(new PerplexityResult(double.NaN, double.PositiveInfinity, 0));
        Assert.Contains("\"mean_nll\": \"NaN\"", json);
        Assert.Contains("\"perplexity\": \"Infinity\"", json);
    }

    [Fact]
    public void WriteFileWritesTheSerialisedValue()
    {
        var dir = Directory.CreateTempSubdirectory("statformer-json-").FullName;
        try
        {
            var path = Path.Combine(dir, "result.json");
            var value = new PerplexityResult(1, Math.E, 9);
            JsonOutput.WriteFile(path, value);
            Assert.Equal(JsonOutput.Serialize(value) + "\n", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
