using StatFormer.Training;
using TorchSharp.Modules;

namespace StatFormer.Tests.Training;

[Collection(TrainingTestCollection.Name)]
public class OptimizerSetupTests
{
    [Fact]
    public void WeightDecayAppliesToMatricesOnly()
    {
        using var model = TinyLm.Create(vocab: 6, dim: 4);
        using var optimizer = Trainer.CreateOptimizer(model, new TrainOptions { WeightDecay = 0.1, Beta1 = 0.8, Beta2 = 0.9 });

        var groups = optimizer.ParamGroups.Cast<AdamW.ParamGroup>().ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal(0.1, groups[0].Options.weight_decay);
        Assert.All(groups[0].Parameters, p => Assert.True(p.dim() >= 2));
        Assert.Equal(2, groups[0].Parameters.Count()); // embedding and head weights
        Assert.Equal(0.0, groups[1].Options.weight_decay);
        Assert.All(groups[1].Parameters, p => Assert.Equal(1, p.dim()));
        Assert.All(groups, g => Assert.Equal((0.8, 0.9), (g.Options.beta1!.Value, g.Options.beta2!.Value)));
    }
}
