namespace StatFormer.Tests;

/// <summary>
/// Tests that read torch's process-wide generator stream twice and compare the draws (e.g. "this call consumes no
/// random numbers") run alone: any test running in parallel that draws from the same generator shifts the stream.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalGeneratorCollection
{
    public const string Name = "GlobalGenerator";
}
