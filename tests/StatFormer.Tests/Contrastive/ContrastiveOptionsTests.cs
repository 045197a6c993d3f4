using StatFormer.Contrastive;
using StatFormer.Options;

namespace StatFormer.Tests.Contrastive;

public class ContrastiveOptionsTests
{
    [Fact]
    public void MethodNamesRoundTrip()
    {
        Assert.Equal(new[] { "infonce", "fair-infonce", "cclk", "fare", "sparse-fare" }, EnumNames.CliNames<ContrastiveMethod>());
        foreach (var method in Enum.GetValues<ContrastiveMethod>())
            Assert.Equal(method, EnumNames.Parse<ContrastiveMethod>(EnumNames.Cli(method)));
        Assert.Equal(ContrastiveMethod.SparseFare, EnumNames.Parse<ContrastiveMethod>(" Sparse-FARE "));
    }

    [Fact]
    public void UnknownMethodListsTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => EnumNames.Parse<ContrastiveMethod>("hsic", "Method"));
        Assert.Contains("'hsic'", error.Message);
        Assert.Equal("Method", error.ParamName);
        foreach (var name in EnumNames.CliNames<ContrastiveMethod>()) Assert.Contains(name, error.Message);
    }

    [Fact]
    public void DefaultsAreTheSpecsBestReadings()
    {
        var options = new ContrastiveLossOptions();
        options.Validate();
        Assert.Equal(0.1, options.Temperature);
        Assert.Equal(CclkKernel.Cosine, options.Kernel);
        Assert.Equal(0.01, options.Lambda);
        Assert.Equal(1.0, options.KernelTemperature);
        Assert.Equal(0, options.AttentionDim);
        Assert.Equal(0, options.AttentionTemperature);
        Assert.False(options.IncludePositive);
        Assert.Equal(FareNegativeScale.BatchMinusOne, options.NegativeScale);
        Assert.True(options.NormalizeSensitive);
        Assert.False(options.SameViewNegatives);
        Assert.Equal(4, options.Buckets);
        Assert.Equal(SparseFareVariant.AdjacentChunk, options.Variant);
        Assert.Equal(64, options.ChunkSize);
        Assert.Equal(SparseFareImplementation.SortAndChunk, options.Implementation);
    }

    public static TheoryData<ContrastiveLossOptions, string> BadOptions() => new()
    {
        { new ContrastiveLossOptions { Temperature = 0 }, "Temperature" },
        { new ContrastiveLossOptions { Temperature = double.NaN }, "Temperature" },
        { new ContrastiveLossOptions { Lambda = -1 }, "Lambda" },
        { new ContrastiveLossOptions { KernelTemperature = 0 }, "KernelTemperature" },
        { new ContrastiveLossOptions { Kernel = (CclkKernel)9 }, "Kernel" },
        { new ContrastiveLossOptions { AttentionDim = -1 }, "AttentionDim" },
        { new ContrastiveLossOptions { AttentionTemperature = -0.5 }, "AttentionTemperature" },
        { new ContrastiveLossOptions { NegativeScale = (FareNegativeScale)5 }, "NegativeScale" },
        { new ContrastiveLossOptions { Buckets = 0 }, "Buckets" },
        { new ContrastiveLossOptions { Buckets = 5 }, "Buckets" },
        { new ContrastiveLossOptions { ChunkSize = 0 }, "ChunkSize" },
        { new ContrastiveLossOptions { Variant = (SparseFareVariant)7 }, "Variant" },
        { new ContrastiveLossOptions { Implementation = (SparseFareImplementation)7 }, "Implementation" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void ValidateNamesTheProperty(ContrastiveLossOptions options, string option)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(option, error.ParamName);
        error = Assert.Throws<ArgumentException>(() => ContrastiveLossFactory.Create(ContrastiveMethod.InfoNce, options, 3));
        Assert.Equal(option, error.ParamName);
    }

    [Fact]
    public void FactoryBuildsEachMethodWithItsOptions()
    {
        var options = new ContrastiveLossOptions { Temperature = 0.2, AttentionDim = 4, AttentionTemperature = 0.5, Buckets = 6, ChunkSize = 16, Kernel = CclkKernel.Laplacian };
        using var info = ContrastiveLossFactory.Create(ContrastiveMethod.InfoNce, options, 3);
        Assert.IsType<InfoNceLoss>(info);
        Assert.Equal(0.2, info.Temperature);
        using var fair = ContrastiveLossFactory.Create(ContrastiveMethod.FairInfoNce, options, 3);
        Assert.IsType<FairInfoNceLoss>(fair);
        using var cclk = Assert.IsType<CclkLoss>(ContrastiveLossFactory.Create(ContrastiveMethod.Cclk, options, 3));
        Assert.Equal(CclkKernel.Laplacian, cclk.Kernel);
        using var fare = Assert.IsType<FareLoss>(ContrastiveLossFactory.Create(ContrastiveMethod.Fare, options, 3));
        Assert.Equal(new long[] { 3, 4 }, fare.QueryProjection.shape);
        Assert.Equal(0.5, fare.AttentionTemperature);
        using var sparse = Assert.IsType<SparseFareLoss>(ContrastiveLossFactory.Create(ContrastiveMethod.SparseFare, options, 2));
        Assert.Equal((6, 16, SparseFareVariant.AdjacentChunk, SparseFareImplementation.SortAndChunk),
            (sparse.Buckets, sparse.ChunkSize, sparse.Variant, sparse.Implementation));
        Assert.Equal(new long[] { 2, 4 }, sparse.KeyProjection.shape);
        Assert.Throws<ArgumentException>(() => ContrastiveLossFactory.Create(ContrastiveMethod.Fare, options, 0));
    }
}
