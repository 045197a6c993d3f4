using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// The Canny edge detector as skimage's <c>feature.canny</c> defines it (MNIST-C's "canny edges" replaces a digit by
/// its edge map): a Gaussian blur that compensates for the black border, Sobel gradients, non-maximum suppression
/// along the gradient, and hysteresis between a low and a high threshold on the gradient magnitude.
/// </summary>
/// <remarks>
/// 1. smoothed = G_σ(x) / G_σ(1), both with zeros outside the image (pixels near the border are not darkened);
/// 2. g_r, g_c = Sobel derivatives along rows and columns ([−1,0,1] ⊗ [1,2,1], edge mirrored), |g| = hypot(g_r, g_c);
/// 3. a pixel not on the image border is a local maximum when |g| is at least the magnitude at p ± g/‖g‖∞, each read
///    linearly between the axis neighbour and the diagonal neighbour it falls between (no pixel with g = 0 is one);
/// 4. candidates = local maxima with |g| ≥ low; edges = the 8-connected groups of candidates holding one with |g| ≥ high.
/// </remarks>
public static class CannyEdges
{
    /// <summary>Edge maps of [N,C,H,W] float images, each channel on its own: 1 on an edge, 0 elsewhere (same dtype).</summary>
    /// <param name="sigma">σ of the Gaussian blur (skimage's default 1).</param>
    /// <param name="low">Low hysteresis threshold on the gradient magnitude (skimage's default for float images: 0.1).</param>
    /// <param name="high">High threshold (default 0.2).</param>
    public static Tensor Detect(Tensor images, double sigma = 1, double low = 0.1, double high = 0.2)
    {
        if (images.dim() != 4) throw new ArgumentException($"images must be [N,C,H,W] (got [{string.Join(",", images.shape)}])");
        if (!(low <= high)) throw new ArgumentException($"the low threshold ({low}) must not exceed the high one ({high})");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = images.to(ScalarType.Float64);      // the thresholds compare small differences of blurred values
        var (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var planes = x.reshape(n * c, 1, h, w);

        var ones = torch.ones(1, 1, h, w, dtype: ScalarType.Float64, device: planes.device);
        var smoothed = ImageFilters.GaussianBlur(planes, sigma, BorderMode.Zero) / ImageFilters.GaussianBlur(ones, sigma, BorderMode.Zero);
        var gRow = ImageFilters.Filter2d(smoothed, new double[,] { { -1, -2, -1 }, { 0, 0, 0 }, { 1, 2, 1 } }, BorderMode.Symmetric);
        var gColumn = ImageFilters.Filter2d(smoothed, new double[,] { { -1, 0, 1 }, { -2, 0, 2 }, { -1, 0, 1 } }, BorderMode.Symmetric);
        var magnitude = torch.sqrt(gRow.square() + gColumn.square());

        var maxima = LocalMaxima(magnitude, gRow, gColumn);
        var candidates = maxima & magnitude.ge(low);
        var edges = candidates & magnitude.ge(high);
        // Hysteresis: grow the strong edges through 8-connected candidates until nothing changes.
        var edgeMap = edges.to(ScalarType.Float64);
        var candidateMap = candidates.to(ScalarType.Float64);
        while (true)
        {
            var grown = nn.functional.max_pool2d(edgeMap, 3, stride: 1, padding: 1) * candidateMap;
            if (!grown.ne(edgeMap).any().item<bool>()) break;
            edgeMap = grown;
        }
        return edgeMap.reshape(n, c, h, w).to(images.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Non-maximum suppression along the gradient [M,1,H,W] → bool; the image border is never a maximum.</summary>
    private static Tensor LocalMaxima(Tensor magnitude, Tensor gRow, Tensor gColumn)
    {
        using var scope = torch.NewDisposeScope();
        var (h, w) = (magnitude.shape[2], magnitude.shape[3]);
        // The 3×3 neighbourhood of every pixel: neighbours[(dr+1)*3 + (dc+1)] is the magnitude at (r+dr, c+dc).
        var padded = nn.functional.pad(magnitude, new long[] { 1, 1, 1, 1 });
        var neighbours = torch.stack(Enumerable.Range(0, 9).Select(k => padded.narrow(2, k / 3, h).narrow(3, k % 3, w)).ToArray());

        var (aRow, aColumn) = (gRow.abs(), gColumn.abs());
        var rowMajor = aRow.ge(aColumn);
        var major = torch.where(rowMajor, aRow, aColumn);
        var minor = torch.where(rowMajor, aColumn, aRow);
        var fraction = minor / major.clamp_min(double.Epsilon);                    // where along the ring side p + g/‖g‖∞ falls
        var (sRow, sColumn) = (gRow.sign().to(ScalarType.Int64), gColumn.sign().to(ScalarType.Int64));
        var axis = torch.where(rowMajor, sRow * 3 + 4, sColumn + 4);                // (s_r, 0) or (0, s_c)
        var diagonal = (sRow + 1) * 3 + (sColumn + 1);                            // (s_r, s_c)
        Tensor Read(Tensor code) => neighbours.gather(0, code.unsqueeze(0)).squeeze(0);
        Tensor Opposite(Tensor code) => 8 - code;                                  // (−dr, −dc)
        var forward = Read(axis) * (1 - fraction) + Read(diagonal) * fraction;
        var backward = Read(Opposite(axis)) * (1 - fraction) + Read(Opposite(diagonal)) * fraction;

        var (rows, columns) = (torch.arange(h, device: magnitude.device), torch.arange(w, device: magnitude.device));
        var inside = (rows.gt(0) & rows.lt(h - 1)).view(h, 1) & (columns.gt(0) & columns.lt(w - 1)).view(1, w);
        return (major.gt(0) & magnitude.ge(forward) & magnitude.ge(backward) & inside).MoveToOuterDisposeScope();
    }
}
