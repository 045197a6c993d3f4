using System.Text;

namespace StatFormer.Data;

/// <summary>
/// The one place that turns (seed, something) into the seed of a <see cref="Random"/> stream. Every rule is a fixed,
/// process- and platform-independent function (string.GetHashCode and HashCode are randomised per process and must not
/// be used for this): a resumed run must draw exactly what the uninterrupted run drew.
/// <para>
/// There are three rules, not one, on purpose: each is the rule its streams were created with, and results already
/// written (pinned test values, the demo's summary.json) depend on it, so merging them would silently change numbers.
/// All three are built on the SplitMix64 constants; new streams should use <see cref="ForStep"/>.
/// </para>
/// </summary>
public static class Seeds
{
    /// <summary>
    /// Seed of step <paramref name="step"/> of a stream seeded by <paramref name="seed"/>:
    /// <c>z = SplitMix64(SplitMix64(seed) ⊕ step)</c>, folded to 32 bits as <c>z ⊕ (z ≫ 32)</c>, so nearby (seed, step)
    /// pairs give unrelated seeds. Used by the language-model batch windows (<c>LmBatchSampler</c>).
    /// </summary>
    public static int ForStep(int seed, long step)
    {
        var z = SplitMix64(SplitMix64((uint)seed) ^ (ulong)step);
        return unchecked((int)(z ^ (z >> 32)));
    }

    /// <summary>
    /// Seed of sub-stream <paramref name="stream"/> of <paramref name="seed"/>, non-negative:
    /// <c>h = seed·φ ⊕ (stream + c)·m₁</c> (φ = 0x9E3779B97F4A7C15, c = 0x632BE59BD9B4E019, m₁ = 0xBF58476D1CE4E5B9), then
    /// <c>h ⊕= h ≫ 31; h ·= m₂; h ⊕= h ≫ 29</c> (m₂ = 0x94D049BB133111EB), low 31 bits. Used by the fair contrastive runs:
    /// the per-epoch batch order (stream = epoch) and the data-seeded train, test and probe subsets (streams 1, 2, 3).
    /// </summary>
    public static int ForStream(long seed, long stream)
    {
        unchecked
        {
            var h = (ulong)seed * Golden ^ ((ulong)stream + 0x632BE59BD9B4E019UL) * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
            h *= 0x94D049BB133111EBUL;
            h ^= h >> 29;
            return (int)(h & 0x7FFFFFFF);
        }
    }

    /// <summary>
    /// Seed of the stream named <paramref name="name"/> of <paramref name="seed"/>, non-negative: the SplitMix64 mixing
    /// function of <c>FNV-1a(UTF-8 name) ⊕ seed·φ</c>, low 31 bits. Used by the generated fairness data, one stream per
    /// split (ColorMNIST's colours per split, the synthetic data's "synthetic-train" and "synthetic-test").
    /// </summary>
    public static int ForName(int seed, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return (int)(Mix(hash ^ unchecked((ulong)(uint)seed * Golden)) & int.MaxValue);
    }

    /// <summary>One SplitMix64 step: <c>Mix(x + φ)</c>.</summary>
    public static ulong SplitMix64(ulong x) => Mix(unchecked(x + Golden));

    /// <summary>SplitMix64's mixing function (Stafford's variant 13): xor-shift 30, ·m₁, xor-shift 27, ·m₂, xor-shift 31.</summary>
    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>φ = 2⁶⁴ / golden ratio, SplitMix64's increment.</summary>
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
}
