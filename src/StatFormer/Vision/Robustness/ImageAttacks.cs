using StatFormer.Options;
using StatFormer.Vision.Data;

namespace StatFormer.Vision.Robustness;

/// <summary>Builds the attacks and their threat models from <see cref="AttackOptions"/>.</summary>
public static class ImageAttacks
{
    /// <summary>The attack <paramref name="kind"/> with its settings from <paramref name="options"/>.</summary>
    public static IImageAttack Create(AttackKind kind, AttackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = EnumNames.Cli(kind);
        return kind switch
        {
            AttackKind.Fgsm => new FgsmAttack(),
            AttackKind.Pgd or AttackKind.PgdL2 => new PgdAttack(options.PgdSteps, options.PgdStepFraction, options.Restarts, options.RandomStart, name),
            AttackKind.Spsa => new SpsaAttack(options.SpsaIterations, options.SpsaSamples, options.SpsaDelta, options.SpsaLearningRate),
            AttackKind.ApgdCe => new ApgdAttack(options.ApgdIterations, targets: 0),
            AttackKind.ApgdT => new ApgdAttack(options.ApgdIterations, options.ApgdTargets),
            AttackKind.Square => new SquareAttack(options.SquareQueries, options.SquareInitialFraction),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown attack"),
        };
    }

    /// <summary>
    /// The threat model of <paramref name="kind"/> at sweep point <paramref name="epsilon"/>: L2 for PGD-L2 (radius
    /// <see cref="AttackOptions.L2RadiusPerEpsilon"/>·ε), L∞ for the rest; in pixel units with the [0, 1] clip, or, with
    /// <see cref="AttackOptions.NormalisedEpsilon"/>, scaled per channel by the normalisation's std and not clipped.
    /// </summary>
    public static ThreatModel Threat(AttackKind kind, double epsilon, AttackOptions options, ChannelNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(normalization);
        if (!(double.IsFinite(epsilon) && epsilon >= 0)) throw new ArgumentException($"ε must be finite and ≥ 0 (got {epsilon})", nameof(epsilon));
        var l2 = kind == AttackKind.PgdL2;
        return new ThreatModel(
            l2 ? ThreatNorm.L2 : ThreatNorm.LInf,
            l2 ? epsilon * options.L2RadiusPerEpsilon : epsilon,
            options.NormalisedEpsilon ? normalization.Std : null,
            ClipToUnitRange: !options.NormalisedEpsilon);
    }
}
