namespace StatFormer.Data;

internal static class RandomExtensions
{
    /// <summary>A standard normal draw by Box–Muller (cosine branch; two uniforms per draw, so the stream is simple to reproduce).</summary>
    public static double NextStandardNormal(this Random rng)
    {
        // 1 − U keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
