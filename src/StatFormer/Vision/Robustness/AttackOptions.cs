using System.Globalization;
using StatFormer.Options;

namespace StatFormer.Vision.Robustness;

/// <summary>The attacks of <see cref="ImageAttacks.Create"/>; all are untargeted and score-based on the logits.</summary>
public enum AttackKind
{
    /// <summary>One signed-gradient step of size ε (Goodfellow et al.).</summary>
    Fgsm,
    /// <summary>L∞ projected gradient descent (Madry et al.).</summary>
    Pgd,
    /// <summary>L2 projected gradient descent: normalised-gradient steps, projection onto the L2 ball.</summary>
    PgdL2,
    /// <summary>Gradient-free: Adam on a finite-difference gradient estimate (Uesato et al. 2018).</summary>
    Spsa,
    /// <summary>Auto-PGD on cross-entropy (Croce and Hein 2020).</summary>
    ApgdCe,
    /// <summary>Auto-PGD on the targeted DLR loss, one run per target class.</summary>
    ApgdT,
    /// <summary>Gradient-free random search over square windows (Andriushchenko et al. 2020).</summary>
    Square,
}

/// <summary>Which label the attacks push away from. Accuracy is always counted against the true label.</summary>
public enum AttackLabels
{
    /// <summary>The dataset's label (the usual protocol).</summary>
    True,
    /// <summary>The model's own clean prediction: the authors' scripts pass no labels, so their attacks use this.</summary>
    Prediction,
}

/// <summary>
/// What <see cref="RobustnessEvaluation"/> runs. ε is in pixel units ([0, 1] images) unless <see cref="NormalisedEpsilon"/>;
/// every step size below is in the same units as ε. Defaults follow the authors' protocol (PGD 20 steps of 0.15·ε,
/// SPSA 40 iterations of 128 samples) and AutoAttack's (APGD 100 iterations, 9 targets, Square 5000 queries, p₀ = 0.8).
/// </summary>
public sealed record AttackOptions
{
    public IReadOnlyList<AttackKind> Attacks { get; init; } = new[] { AttackKind.Fgsm, AttackKind.Pgd, AttackKind.Spsa };

    /// <summary>The ε sweep; 1/255 is the authors' table value.</summary>
    public IReadOnlyList<double> Epsilons { get; init; } = new[] { 1.0 / 255 };

    public AttackLabels Labels { get; init; } = AttackLabels.True;

    /// <summary>
    /// The authors' choice: ε is in normalised units (per channel ε·std_c in pixels) and adversarial images are not
    /// clipped to [0, 1]. False (the default): ε in pixels and images clipped to [0, 1].
    /// </summary>
    public bool NormalisedEpsilon { get; init; }

    public int PgdSteps { get; init; } = 20;

    /// <summary>PGD's step α = PgdStepFraction·ε (the authors' 0.15; Madry's is 2.5/steps).</summary>
    public double PgdStepFraction { get; init; } = 0.15;

    /// <summary>PGD runs (L∞ and L2) per image; a later run only on the images the earlier ones did not fool.</summary>
    public int Restarts { get; init; } = 1;

    /// <summary>PGD starts from a uniform random point of the ε-ball (L2: a random direction, radius U(0, ε)).</summary>
    public bool RandomStart { get; init; } = true;

    /// <summary>The L2 radius of <see cref="AttackKind.PgdL2"/> at a sweep point ε is L2RadiusPerEpsilon·ε.</summary>
    /// <remarks>
    /// 1 (default): the sweep values are the L2 radii themselves (run PGD-L2 in a sweep of its own, e.g. 0.25,0.5).
    /// AutoAttack's CIFAR-10 pair, L∞ 8/255 and L2 0.5, is a ratio of about 16: set 16 to put both on one sweep.
    /// </remarks>
    public double L2RadiusPerEpsilon { get; init; } = 1;

    /// <summary>SPSA's Adam iterations (the Elliptical Attention scripts' 40; the AC router's use 20).</summary>
    public int SpsaIterations { get; init; } = 40;

    /// <summary>Rademacher directions per gradient estimate.</summary>
    public int SpsaSamples { get; init; } = 128;

    /// <summary>Finite-difference half width δ.</summary>
    public double SpsaDelta { get; init; } = 0.01;

    public double SpsaLearningRate { get; init; } = 0.01;

    public int ApgdIterations { get; init; } = 100;

    /// <summary>APGD-T's target classes: the ones with the 2nd…(ApgdTargets+1)-th largest clean logits.</summary>
    public int ApgdTargets { get; init; } = 9;

    public int SquareQueries { get; init; } = 5000;

    /// <summary>Square's initial window fraction p₀ of the image area.</summary>
    public double SquareInitialFraction { get; init; } = 0.8;

    /// <summary>Also report the worst case over <see cref="Attacks"/>: robust only if every attack failed.</summary>
    public bool WorstCase { get; init; } = true;

    /// <summary>Images per attack batch.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Attack a class-stratified subset of MaxImages test images drawn from <see cref="Seed"/> (null: all).</summary>
    public int? MaxImages { get; init; }

    public int Seed { get; init; }

    public void Validate()
    {
        OptionCheck.Require(Attacks is { Count: > 0 }, nameof(Attacks), "need at least one attack");
        OptionCheck.Require(Attacks.All(Enum.IsDefined), nameof(Attacks), "unknown attack");
        OptionCheck.Require(Attacks.Distinct().Count() == Attacks.Count, nameof(Attacks), "an attack is listed twice");
        OptionCheck.Require(Epsilons is { Count: > 0 }, nameof(Epsilons), "need at least one ε");
        foreach (var eps in Epsilons)
            OptionCheck.Require(double.IsFinite(eps) && eps >= 0, nameof(Epsilons), $"every ε must be finite and ≥ 0 (got {eps})");
        OptionCheck.Require(Epsilons.Distinct().Count() == Epsilons.Count, nameof(Epsilons), "an ε is listed twice");
        OptionCheck.Require(!NormalisedEpsilon || Epsilons.All(e => e <= 10), nameof(Epsilons), "a normalised ε above 10 covers every image");
        OptionCheck.Require(NormalisedEpsilon || Epsilons.All(e => e <= 1), nameof(Epsilons), "a pixel ε above 1 covers every image; ε is in [0, 1] units (write 8/255)");
        OptionCheck.Require(Enum.IsDefined(Labels), nameof(Labels), "unknown label choice");
        OptionCheck.Require(PgdSteps >= 1, nameof(PgdSteps), $"must be at least 1 (got {PgdSteps})");
        OptionCheck.Require(double.IsFinite(PgdStepFraction) && PgdStepFraction > 0, nameof(PgdStepFraction), $"must be positive (got {PgdStepFraction})");
        OptionCheck.Require(Restarts >= 1, nameof(Restarts), $"must be at least 1 (got {Restarts})");
        OptionCheck.Require(double.IsFinite(L2RadiusPerEpsilon) && L2RadiusPerEpsilon > 0, nameof(L2RadiusPerEpsilon), $"must be positive (got {L2RadiusPerEpsilon})");
        OptionCheck.Require(SpsaIterations >= 1, nameof(SpsaIterations), $"must be at least 1 (got {SpsaIterations})");
        OptionCheck.Require(SpsaSamples >= 1, nameof(SpsaSamples), $"must be at least 1 (got {SpsaSamples})");
        OptionCheck.Require(double.IsFinite(SpsaDelta) && SpsaDelta > 0, nameof(SpsaDelta), $"must be positive (got {SpsaDelta})");
        OptionCheck.Require(double.IsFinite(SpsaLearningRate) && SpsaLearningRate > 0, nameof(SpsaLearningRate), $"must be positive (got {SpsaLearningRate})");
        OptionCheck.Require(ApgdIterations >= 1, nameof(ApgdIterations), $"must be at least 1 (got {ApgdIterations})");
        OptionCheck.Require(ApgdTargets >= 1, nameof(ApgdTargets), $"must be at least 1 (got {ApgdTargets})");
        OptionCheck.Require(SquareQueries >= 1, nameof(SquareQueries), $"must be at least 1 (got {SquareQueries})");
        OptionCheck.Require(SquareInitialFraction > 0 && SquareInitialFraction <= 1, nameof(SquareInitialFraction), $"must be in (0, 1] (got {SquareInitialFraction})");
        OptionCheck.Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1 (got {BatchSize})");
        OptionCheck.Require(MaxImages is null or >= 1, nameof(MaxImages), $"must be at least 1 when given (got {MaxImages})");
    }
}

/// <summary>Parses an ε list as written on the command line: "1/255,2/255,0.01".</summary>
public static class EpsilonList
{
    /// <exception cref="ArgumentException">The message quotes the item that is not a number or a fraction a/b.</exception>
    public static IReadOnlyList<double> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length == 0 || items.All(i => i.Length == 0))
            throw new ArgumentException("the ε list is empty", nameof(text));
        return items.Select(item => ParseItem(item, text)).ToArray();
    }

    private static double ParseItem(string item, string text)
    {
        var parts = item.Split('/', StringSplitOptions.TrimEntries);
        var ok = parts.Length is 1 or 2;
        var value = double.NaN;
        if (ok && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var numerator))
        {
            value = numerator;
            if (parts.Length == 2)
                value = double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var denominator) && denominator != 0
                    ? numerator / denominator : double.NaN;
        }
        if (!double.IsFinite(value))
            throw new ArgumentException($"'{item}' in the ε list '{text}' is not a number or a fraction a/b (such as 8/255)", nameof(text));
        return value;
    }
}
