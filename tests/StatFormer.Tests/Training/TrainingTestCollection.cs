namespace StatFormer.Tests.Training;

/// <summary>
/// Training tests run alone: the torch generator is process-wide (parallel tests would shift each
/// other's dropout masks) and the memory test reads process RSS.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingTestCollection
{
    public const string Name = "Training";
}
