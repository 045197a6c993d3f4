using StatFormer.Vision.Data;
using StatFormer.Vision.Robustness;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Robustness;

public sealed class AttackInternalsTests(ITestOutputHelper output)
{
    [Fact]
    public void ApgdCheckpointsForOneHundredIterations()
    {
        // First after 22; intervals 19, 16, 13, 10, 7, then the floor 6, 6; the next (105) is past N.
        Assert.Equal(new[] { 22, 41, 57, 70, 80, 87, 93, 99 }, ApgdAttack.Checkpoints(100));
        // N = 10: ⌈2.2⌉ = 3, shrink ⌈0.3⌉ = 1, floor ⌈0.6⌉ = 1: intervals 3, 2, 1, 1, 1, 1.
        Assert.Equal(new[] { 3, 5, 6, 7, 8, 9, 10 }, ApgdAttack.Checkpoints(10));
    }

    [Fact]
    public void ApgdHalvingConditionsOnAHandExample()
    {
        using var increases = torch.tensor(new long[] { 3, 4, 2, 4 });
        using var halvedLast = torch.tensor(new[] { false, false, false, true });
        using var bestBefore = torch.tensor(new[] { 1f, 1f, 1f, 1f });
        using var bestNow = torch.tensor(new[] { 2f, 1f, 2f, 1f });
        using var halve = ApgdAttack.ShouldHalve(increases, 4, halvedLast, bestBefore, bestNow);
        // 0: rose in 3 ≤ 0.75·4 steps; 1: rose often but stalled without a halving last time; 2: rose rarely;
        // 3: rose often, stalled, but was halved at the last checkpoint.
        Assert.Equal(new[] { true, true, true, false }, halve.data<bool>().ToArray());
    }

    [Fact]
    public void ApgdMomentumStepOnAHandExample()
    {
        using var clean = torch.full(new long[] { 2, 1, 1, 2 }, 0.5f);
        using var current = torch.tensor(new[] { 0.52f, 0.5f, 0.58f, 0.45f }).reshape(2, 1, 1, 2);
        using var previous = torch.tensor(new[] { 0.5f, 0.5f, 0.55f, 0.5f }).reshape(2, 1, 1, 2);
        using var gradient = torch.tensor(new[] { 1f, 1f, 1f, -1f }).reshape(2, 1, 1, 2);
        using var eta = torch.tensor(new[] { 0.05f, 0.05f });
        var threat = new ThreatModel(ThreatNorm.LInf, 0.1);
        using var next = ApgdAttack.MomentumStep(current, previous, gradient, eta, 0.75, threat, clean);
        // Image 0: z = (0.57, 0.55); x + 0.75(z − x) + 0.25(x − x_prev) = (0.5625, 0.5375).
        // Image 1: z = Π(0.63, 0.40) = (0.6, 0.4); (0.6025, 0.4) projects to (0.6, 0.4).
        var expected = new[] { 0.5625f, 0.5375f, 0.6f, 0.4f };
        var actual = next.data<float>().ToArray();
        for (var i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 5);
        using var first = ApgdAttack.MomentumStep(current, previous, gradient, eta, 1.0, threat, clean);
        Assert.Equal(0.57f, first.data<float>()[0], 5);   // α = 1: the plain projected step z
    }

    [Fact]
    public void SpsaEstimateApproachesTheTrueGradientOfASmoothFunction()
    {
        using var generator = new Generator(21);
        using var a = torch.randn(1, 3, 4, 4, generator: generator);
        using var b = torch.randn(1, 3, 4, 4, generator: generator);
        using var x = torch.rand(2, 3, 4, 4, generator: generator);
        // f(x) = a·x + ½ b·x², per image; ∇f = a + b ⊙ x. Central differences are exact on a quadratic, so all
        // the error is the Rademacher sampling, which shrinks as 1/√samples.
        Tensor F(Tensor stacked) => (stacked * a + stacked.square() * b * 0.5).flatten(1).sum(new long[] { 1 });
        using var truth = a + b * x;
        double Cosine(int samples)
        {
            using var estimate = SpsaAttack.EstimateGradient(F, x, samples, 0.01, null, generator);
            using var cos = nn.functional.cosine_similarity(estimate.flatten(1), truth.flatten(1), dim: 1);
            return cos.min().item<float>();
        }
        var few = Cosine(16);
        var many = Cosine(8192);
        output.WriteLine($"cosine with 16 samples {few:F3}, with 8192 {many:F3}");
        Assert.True(many > 0.98, $"cosine {many}");
        Assert.True(few < many, $"{few} vs {many}");
    }

    [Fact]
    public void SquareWindowSchedule()
    {
        var expected = new (int Iteration, double Fraction)[]
        {
            (0, 0.8), (10, 0.8), (11, 0.4), (50, 0.4), (51, 0.2), (200, 0.2), (201, 0.1), (501, 0.05), (1001, 0.025),
            (2001, 0.0125), (4001, 0.00625), (6001, 0.003125), (8000, 0.003125), (8001, 0.0015625),
        };
        foreach (var (iteration, fraction) in expected)
            Assert.Equal(fraction, SquareAttack.WindowFraction(iteration, 0.8), 12);
        Assert.Equal(29, SquareAttack.WindowSize(0.8, 32, 32));        // √819.2 = 28.6
        Assert.Equal(20, SquareAttack.WindowSize(0.4, 32, 32));        // √409.6 = 20.2
        Assert.Equal(25, SquareAttack.WindowSize(0.8, 28, 28));        // √627.2 = 25.04
        Assert.Equal(1, SquareAttack.WindowSize(0.8 / 512, 32, 32));   // √1.6 = 1.26
        Assert.Equal(4, SquareAttack.WindowSize(1.0, 8, 4));           // √32 = 5.7, capped at min(H, W)
    }

    private static (LinearImageModel Model, ImageDataset Data) LinearProblem(int? quantiseLevels)
    {
        using var generator = new Generator(31);
        const int pixels = 64;
        using var w = torch.randint(0, 2, new long[] { 1, pixels }, dtype: ScalarType.Float32, generator: generator).mul_(2).sub_(1);
        using var weight = torch.cat(new[] { w, w.neg() });
        using var bias = torch.zeros(2);
        var model = new LinearImageModel(weight, bias, quantiseLevels);
        using var raw = AttackTestData.Random(60, 1, 8, 2, seed: 32, low: 60, high: 195);
        return (model, AttackTestData.LabelledBy(model, raw));
    }

    [Fact]
    public void GradientAttacksReachTheClosedFormRobustAccuracyOfALinearModel()
    {
        var (model, data) = LinearProblem(quantiseLevels: null);
        using var _ = model;
        using var __ = data;
        // Binary linear model, clip not binding (pixels in [0.24, 0.76]): robust iff |margin| ≥ ε‖w_0 − w_1‖₁ = ε·128.
        var (images, labels) = AttackTestData.All(data);
        using var margins = AttackLosses.Margin(model.forward(images).detach(), labels);
        // ε at the median margin, so about half the points are robust (ε ≤ 0.24 keeps the clip from binding).
        var epsilon = Math.Round(margins.median().item<float>() / 128.0, 4);
        Assert.InRange(epsilon, 1e-3, 0.24);
        var closedForm = margins.ge(epsilon * 128).to_type(ScalarType.Float64).mean().item<double>();
        var options = new AttackOptions
        {
            Attacks = new[] { AttackKind.Fgsm, AttackKind.Pgd, AttackKind.ApgdCe }, Epsilons = new[] { epsilon },
            // 20 steps of 0.15ε cross the ball from any random start (2ε ≤ 3ε).
            PgdSteps = 20, ApgdIterations = 20, Seed = 4,
        };
        var result = RobustnessEvaluation.Evaluate(model, data, options, ChannelNormalization.Identity(1));
        output.WriteLine($"closed form {closedForm:F3}; {string.Join(", ", result.Curves.Select(c => $"{c.Attack} {c.Points[0].RobustAccuracy:F3}"))}");
        Assert.InRange(closedForm, 0.1, 0.9);
        foreach (var curve in result.Curves) Assert.Equal(closedForm, curve.Points[0].RobustAccuracy, 12);
    }

    [Fact]
    public void GradientMaskingIsCaughtByTheGradientFreeAttacks()
    {
        var options = new AttackOptions
        {
            Attacks = new[] { AttackKind.Fgsm, AttackKind.Pgd, AttackKind.Spsa, AttackKind.Square }, Epsilons = new[] { 0.1 },
            PgdSteps = 10, SpsaIterations = 20, SpsaSamples = 32, SquareQueries = 200, Seed = 1,
        };
        string Describe(RobustnessResult r) => string.Join(", ", r.Curves.Select(c => $"{c.Attack} {c.Points[0].RobustAccuracy:F3}"));

        // An 8-bit quantiser in front of the linear model: round() passes no gradient, so FGSM and PGD see zeros.
        var (masked, maskedData) = LinearProblem(quantiseLevels: 255);
        using var _ = masked;
        using var __ = maskedData;
        var maskedResult = RobustnessEvaluation.Evaluate(masked, maskedData, options, ChannelNormalization.Identity(1));
        var gap = Assert.Single(maskedResult.Gaps);
        output.WriteLine($"masked: {Describe(maskedResult)}; gap {gap.Gap:F3}");
        Assert.True(maskedResult.Curves.Single(c => c.Attack == "pgd").Points[0].RobustAccuracy > 0.8);
        Assert.True(gap.Gap > 0.3, $"gap {gap.Gap}");
        Assert.Equal(maskedResult.Curves.Where(c => c.GradientFree).Min(c => c.Points[0].RobustAccuracy), gap.GradientFreeRobustAccuracy);

        // The same model without the quantiser: PGD is at least as strong as the gradient-free attacks.
        var (plain, plainData) = LinearProblem(quantiseLevels: null);
        using var ___ = plain;
        using var ____ = plainData;
        var plainResult = RobustnessEvaluation.Evaluate(plain, plainData, options, ChannelNormalization.Identity(1));
        output.WriteLine($"plain: {Describe(plainResult)}; gap {plainResult.Gaps[0].Gap:F3}");
        Assert.True(plainResult.Gaps[0].Gap <= 0, $"gap {plainResult.Gaps[0].Gap}");
    }
}
