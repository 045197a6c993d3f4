using StatFormer.Vision.Robustness;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Robustness;

/// <summary>Long attack loops hold a fixed number of live tensors: the state of step k is freed at step k + 1.</summary>
public sealed class AttackMemoryTests
{
    /// <summary>Records this thread's live tensor count at every forward.</summary>
    private sealed class CountingModel(nn.Module<Tensor, Tensor> inner) : nn.Module<Tensor, Tensor>("counting_model")
    {
        public List<long> LiveTensors { get; } = new();

        public override Tensor forward(Tensor x)
        {
            LiveTensors.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            return inner.forward(x);
        }
    }

    public static TheoryData<AttackKind> LoopKinds() => new() { AttackKind.Pgd, AttackKind.Spsa, AttackKind.ApgdCe, AttackKind.ApgdT, AttackKind.Square };

    [Theory]
    [MemberData(nameof(LoopKinds))]
    public void LiveTensorsStayFlatOverALongAttack(AttackKind kind)
    {
        using var inner = new ImageMlp(3 * 6 * 6, 32, 10, seed: 1);
        inner.eval();
        using var model = new CountingModel(inner);
        using var data = AttackTestData.Random(8, 3, 6, 10, seed: 2);
        var (images, labels) = AttackTestData.All(data);
        using var _ = images;
        using var __ = labels;
        // A tiny ε keeps most images unfooled, so every loop runs its full length.
        var options = new AttackOptions { PgdSteps = 300, SpsaIterations = 150, SpsaSamples = 4, ApgdIterations = 150, ApgdTargets = 1, SquareQueries = 300 };
        var threat = new ThreatModel(ThreatNorm.LInf, 0.1 / 255);
        using var generator = new Generator(3);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var adversarial = ImageAttacks.Create(kind, options).Perturb(model, images, labels, threat, generator)) { }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        var counts = model.LiveTensors;
        Assert.True(counts.Count >= 150, $"{kind}: only {counts.Count} forwards");
        var early = counts.Skip(10).Take(counts.Count / 2 - 10).Max();
        var late = counts.Skip(counts.Count / 2).Max();
        Assert.True(late <= early, $"{kind}: live tensors grew from {early} to {late}");
    }
}
