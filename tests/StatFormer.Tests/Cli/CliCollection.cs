using TorchSharp;

namespace StatFormer.Tests.Cli;

/// <summary>
/// CLI and experiment tests run alone, never beside another test: they redirect Console.Out and
/// Console.Error (process-wide, so a parallel test's output would land in our capture or ours in
/// theirs) and they train models with torch's process-wide random generator (a parallel test drawing
/// from it would shift our dropout masks and break the exact-reproducibility assertions).
/// The fixture pins torch to one thread for the collection: on a busy 2-core machine a second
/// intra-op thread makes tiny models an order of magnitude slower, not faster.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection : ICollectionFixture<SingleThreadedTorch>
{
    public const string Name = "CLI and experiments";
}

public sealed class SingleThreadedTorch : IDisposable
{
    private readonly int _previous = torch.get_num_threads();

    public SingleThreadedTorch() => torch.set_num_threads(1);

    public void Dispose() => torch.set_num_threads(_previous);
}
