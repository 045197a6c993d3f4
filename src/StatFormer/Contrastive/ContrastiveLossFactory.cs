using StatFormer.Options;
namespace StatFormer.Contrastive;

/// <summary>Builds the loss module of a <see cref="ContrastiveMethod"/> from the shared options.</summary>
public static class ContrastiveLossFactory
{
    /// <param name="sensitiveDim">d_z, the width of <see cref="SensitiveBatch.Features"/> (sizes W_Q/W_K and R).</param>
    /// <exception cref="ArgumentException">An option out of range (the message names the CLI option).</exception>
    public static ContrastiveLoss Create(ContrastiveMethod method, ContrastiveLossOptions options, int sensitiveDim)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (sensitiveDim < 1) throw new ArgumentException($"the sensitive attribute needs at least one feature, got d_z = {sensitiveDim}", nameof(sensitiveDim));
        return method switch
        {
            ContrastiveMethod.InfoNce => new InfoNceLoss(options.Temperature),
            ContrastiveMethod.FairInfoNce => new FairInfoNceLoss(options.Temperature),
            ContrastiveMethod.Cclk => new CclkLoss(options),
            ContrastiveMethod.Fare => new FareLoss(sensitiveDim, options),
            ContrastiveMethod.SparseFare => new SparseFareLoss(sensitiveDim, options),
            _ => throw new ArgumentException($"unknown contrastive method {method} (valid: {string.Join(", ", EnumNames.CliNames<ContrastiveMethod>())})", nameof(method)),
        };
    }
}
