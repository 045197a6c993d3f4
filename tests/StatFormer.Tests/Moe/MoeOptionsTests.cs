using StatFormer.Moe;
using StatFormer.Options;

namespace StatFormer.Tests.Moe;

public class MoeOptionsTests
{
    private static readonly MoeOptions Valid = new() { ExpertHidden = 16 };

    [Fact]
    public void DefaultsAreValid() => Valid.Validate();

    public static IEnumerable<object[]> BadOptions() => new[]
    {
        new object[] { Valid with { Experts = 2, TopK = 3 }, "TopK", "TopK (3) exceeds Experts (2)" },
        new object[] { Valid with { Experts = 0, TopK = 0 }, "Experts", "Experts must be at least 1" },
        new object[] { Valid with { TopK = 0 }, "TopK", "TopK must be at least 1" },
        new object[] { Valid with { ExpertHidden = 0 }, "ExpertHidden", "ExpertHidden" },
        new object[] { Valid with { Dropout = 1.0 }, "Dropout", "Dropout" },
        new object[] { Valid with { CapacityFactor = -0.5 }, "CapacityFactor", "CapacityFactor" },
        new object[] { Valid with { CapacityFactor = double.NaN }, "CapacityFactor", "CapacityFactor" },
        new object[] { Valid with { XmoeDim = 0 }, "XmoeDim", "XmoeDim" },
        new object[] { Valid with { XmoeTemperature = 0 }, "XmoeTemperature", "XmoeTemperature" },
        new object[] { Valid with { AcEpsilon = 0 }, "AcEpsilon", "AcEpsilon" },
        new object[] { Valid with { AcClipMultiple = 0.5 }, "AcClipMultiple", "AcClipMultiple" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void ValidateNamesTheProperty(MoeOptions options, string property, string expected)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(property, error.ParamName);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("none", MoeKind.None)]
    [InlineData("smoe", MoeKind.Smoe)]
    [InlineData("xmoe", MoeKind.Xmoe)]
    [InlineData("ac-smoe", MoeKind.AcSmoe)]
    [InlineData("AC-XMOE", MoeKind.AcXmoe)]
    public void KindNamesRoundTrip(string name, MoeKind kind)
    {
        Assert.Equal(kind, EnumNames.Parse<MoeKind>(name));
        Assert.Equal(name.ToLowerInvariant(), EnumNames.Cli(kind));
    }

    [Fact]
    public void UnknownKindListsTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => EnumNames.Parse<MoeKind>("acmoe"));
        Assert.Contains("'acmoe'", error.Message);
        Assert.Contains("none, smoe, xmoe, ac-smoe, ac-xmoe", error.Message);
    }

    [Fact]
    public void AdaptiveKindsAndTheirBases()
    {
        Assert.True(MoeKindNames.IsAdaptive(MoeKind.AcSmoe));
        Assert.True(MoeKindNames.IsAdaptive(MoeKind.AcXmoe));
        Assert.False(MoeKindNames.IsAdaptive(MoeKind.Smoe));
        Assert.False(MoeKindNames.IsAdaptive(MoeKind.None));
        Assert.Equal(MoeKind.Smoe, MoeKindNames.BaseOf(MoeKind.AcSmoe));
        Assert.Equal(MoeKind.Xmoe, MoeKindNames.BaseOf(MoeKind.AcXmoe));
        Assert.Equal(MoeKind.Xmoe, MoeKindNames.BaseOf(MoeKind.Xmoe));
    }

    [Fact]
    public void LayerRejectsKindNone() =>
        Assert.Throws<ArgumentException>(() => new MoeFeedForward(8, MoeKind.None, Valid, causal: false));
}
