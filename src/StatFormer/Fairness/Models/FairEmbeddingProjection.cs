using System.Globalization;
using StatFormer.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Fairness.Models;

/// <summary>
/// Test representations projected on their first two principal components, with what each sample's z is, written as
/// embedding.json beside a run's summary so that a comparison can plot it again without the model.
/// </summary>
/// <param name="X">First principal component of each sample.</param>
/// <param name="Y">Second principal component.</param>
/// <param name="Groups">Group id of each sample (palette bin, quadrant, or category combination).</param>
/// <param name="GroupNames">Names of the group ids.</param>
/// <param name="Rgb">ColorMNIST only: each sample's background colour as "#rrggbb"; null otherwise.</param>
/// <param name="ExplainedVariance">Fraction of the total variance of the representations on each of the two components.</param>
public sealed record FairEmbeddingProjection(
    IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<int> Groups, IReadOnlyList<string> GroupNames,
    IReadOnlyList<string>? Rgb, IReadOnlyList<double> ExplainedVariance)
{
    public const string FileName = "embedding.json";

    /// <summary>PCA (centred SVD in float64) of <paramref name="embeddings"/> [n,d].</summary>
    /// <param name="rawRgb">float [n,3] colours on 0–255 for ColorMNIST, or null.</param>
    public static FairEmbeddingProjection Compute(Tensor embeddings, Tensor groups, IReadOnlyList<string> groupNames, Tensor? rawRgb)
    {
        if (embeddings.dim() != 2 || embeddings.shape[0] < 1)
            throw new ArgumentException($"embeddings must be [n,d] with n ≥ 1, got [{string.Join(",", embeddings.shape)}]", nameof(embeddings));
        using var scope = torch.NewDisposeScope();
        var centred = embeddings.to_type(ScalarType.Float64);
        centred = centred - centred.mean([0L], keepdim: true);
        var (_, s, vh) = torch.linalg.svd(centred, fullMatrices: false);
        var components = Math.Min(2, (int)vh.shape[0]);
        var coords = centred.matmul(vh.narrow(0, 0, components).t());                  // [n, ≤2]
        var xs = coords.select(1, 0).data<double>().ToArray();
        var ys = components > 1 ? coords.select(1, 1).data<double>().ToArray() : new double[xs.Length];
        var variance = s.pow(2);
        var total = variance.sum().item<double>();
        var explained = Enumerable.Range(0, 2)
            .Select(k => k < components && total > 0 ? variance[k].item<double>() / total : 0.0).ToArray();
        string[]? rgb = null;
        if (rawRgb is not null)
        {
            var values = rawRgb.to_type(ScalarType.Float32).clamp(0, 255).round().data<float>().ToArray();
            rgb = Enumerable.Range(0, xs.Length)
                .Select(i => string.Create(CultureInfo.InvariantCulture, $"#{(int)values[3 * i]:x2}{(int)values[3 * i + 1]:x2}{(int)values[3 * i + 2]:x2}"))
                .ToArray();
        }
        return new FairEmbeddingProjection(xs, ys, groups.data<long>().ToArray().Select(g => (int)g).ToArray(), groupNames, rgb, explained);
    }

    /// <summary>Draws the projection: dots in their own background colour (ColorMNIST) or coloured by group.</summary>
    public void Plot(string path, string title)
    {
        IReadOnlyList<(byte, byte, byte)>? colours = Rgb?.Select(hex => (
            byte.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            byte.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            byte.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToList();
        FairPlots.Embedding(path, title, X, Y, Groups, GroupNames, colours,
            string.Create(CultureInfo.InvariantCulture, $"PC 1 ({ExplainedVariance[0]:P0} of variance)"),
            string.Create(CultureInfo.InvariantCulture, $"PC 2 ({ExplainedVariance[1]:P0} of variance)"));
    }
}
