using System.Globalization;

namespace StatFormer.Reporting;

/// <summary>
/// One plain-language result of a mechanism probe: what the paper's argument predicts, what was measured (mean ± sd over
/// seeds) and whether the two agree.
/// </summary>
public sealed record ProbeFinding(string Probe, string Predicted, string Measured, ProbeVerdict Verdict)
{
    public string Line => $"{Probe}: theory predicts {Predicted}; measured {Measured} → {VerdictText(Verdict)}";

    public static string VerdictText(ProbeVerdict verdict) => verdict switch
    {
        ProbeVerdict.Agrees => "agrees",
        ProbeVerdict.Contradicts => "contradicts the prediction",
        _ => "no clear effect (within the seed spread)",
    };
}

/// <summary>How a measured effect relates to the predicted one.</summary>
public enum ProbeVerdict
{
    /// <summary>The effect has the predicted sign and its mean is more than two standard errors from zero.</summary>
    Agrees,
    /// <summary>Within two standard errors of zero, or a single seed.</summary>
    Unclear,
    /// <summary>The opposite sign, more than two standard errors from zero.</summary>
    Contradicts,
}

/// <summary>The verdict rule of the probes, in one place.</summary>
public static class ProbeVerdicts
{
    /// <summary>
    /// <paramref name="effect"/> is the per-seed effect oriented so that the prediction says "positive" (e.g. softmax MSE −
    /// elliptical MSE, or AUROC − 0.5). Agrees when mean &gt; 2·sd/√n, contradicts when mean &lt; −2·sd/√n, unclear otherwise;
    /// one seed has no spread to judge against, so it is always unclear.
    /// </summary>
    public static ProbeVerdict Of(MeanStd effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (effect.N < 2) return ProbeVerdict.Unclear;
        var margin = 2 * effect.Std / Math.Sqrt(effect.N);
        if (effect.Mean > margin) return ProbeVerdict.Agrees;
        if (effect.Mean < -margin) return ProbeVerdict.Contradicts;
        return ProbeVerdict.Unclear;
    }

    internal static string F(double value, int decimals) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    internal static string Pct(MeanStd relative) =>
        relative.N > 1 ? $"{F(100 * relative.Mean, 1)} ± {F(100 * relative.Std, 1)} %" : $"{F(100 * relative.Mean, 1)} %";
}
