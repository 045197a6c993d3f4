using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>The root help describes every command; an unknown command is an error, with or without --help.</summary>
[Collection(CliCollection.Name)]
public sealed class HelpCliTests
{
    [Fact]
    public void RootHelpDescribesEveryCommand()
    {
        var result = Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var word in new[] { "lm", "compare", "fair", "vision", "demo", "bench", "Elliptical Attention", "MoE", "FARE" })
            Assert.Contains(word, result.Stdout);
    }

    [Theory]
    [InlineData("images", "train", "--help")]
    [InlineData("images", "train")]
    [InlineData("images")]
    public void UnknownCommandIsAnErrorEvenWithHelp(params string[] args)
    {
        var result = Run(args);
        AssertOneLineError(result, "unknown command 'images'", "lm", "fair", "vision");
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void UnknownSubcommandNamesItsParent()
    {
        var result = Run("lm", "foo", "--help");
        AssertOneLineError(result, "unknown command 'lm foo'", "train", "eval");
    }

    [Fact]
    public void KnownCommandHelpStillWorks()
    {
        var result = Run("fair", "train", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--method", result.Stdout);
    }
}
