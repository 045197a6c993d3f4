using StatFormer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Vision.Corruptions;

/// <summary>
/// CIFAR-10-C's spatter (Hendrycks &amp; Dietterich 2019, an extra): a liquid layer per image, N(loc, scale) per pixel,
/// Gaussian-blurred (σ, edge pixels repeated) and zeroed below a threshold, spilled over the image as water drops
/// (severities 1–3) or mud (4–5). The drops are the benchmark's OpenCV chain, written here from OpenCV's definitions
/// and checked pixel for pixel against OpenCV 4.6 (docs/vision.md, "Corruptions").
/// </summary>
/// <remarks>
/// Water: L = the layer as 8 bits (×255, truncated); E = OpenCV's Canny edges of L (thresholds 50 and 150);
/// D = the 5×5 chamfer distance to the nearest edge (OpenCV's DIST_L2 mask 5: steps 1, 1.4, 2.1969), capped at 20,
/// 3×3 box-blurred and truncated to 8 bits, histogram-equalised, embossed ([[−2,−1,0],[−1,1,1],[0,1,2]], saturated to
/// 8 bits) and box-blurred again; the drop mask m = L·D / max(L·D) · amount adds pale turquoise (175, 238, 238)/255
/// times m to the image. Mud: the layer's above-threshold pixels as a mask, blurred by σ_mud and kept where ≥ 0.8,
/// blend the image towards mud brown (63, 42, 20)/255.
/// </remarks>
public static class Spatter
{
    /// <summary>Per severity 1 … 5: (loc, scale, σ, threshold, drop amount or mud σ, mud) — make_cifar_c.py's table.</summary>
    internal static readonly (double Loc, double Scale, double Sigma, double Threshold, double Amount, bool Mud)[] Cifar =
        [(0.62, 0.1, 0.7, 0.7, 0.5, false), (0.65, 0.1, 0.8, 0.7, 0.5, false), (0.65, 0.3, 1, 0.69, 0.5, false),
         (0.65, 0.1, 0.7, 0.69, 0.6, true), (0.65, 0.1, 0.5, 0.68, 0.6, true)];

    private static readonly float[] Water = [175 / 255f, 238 / 255f, 238 / 255f];
    private static readonly float[] Mud = [63 / 255f, 42 / 255f, 20 / 255f];

    /// <summary>Spatter at severity index <paramref name="s"/> (0 … 4) on [N,3,H,W] images in [0, 1] (not clipped here).</summary>
    internal static Tensor Apply(Tensor x, int s, Generator g)
    {
        var p = Cifar[s];
        var (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var liquid = torch.randn([n, 1, h, w], generator: g) * p.Scale + p.Loc;           // one layer per image, shared by its channels
        liquid = ImageFilters.GaussianBlur(liquid, p.Sigma, BorderMode.Nearest);
        liquid = torch.where(liquid < p.Threshold, torch.zeros_like(liquid), liquid);
        if (p.Mud)
        {
            var mask = ImageFilters.GaussianBlur((liquid > p.Threshold).to_type(x.dtype), p.Amount, BorderMode.Nearest);
            mask = torch.where(mask < 0.8, torch.zeros_like(mask), mask);
            return x * (1 - mask) + torch.tensor(Mud).reshape(1, c, 1, 1) * mask;
        }

        var layers = liquid.mul(255).contiguous().data<float>().ToArray();
        var plane = (int)(h * w);
        var drops = new float[layers.Length];
        for (var image = 0; image < n; image++)
        {
            // NumPy's float → uint8 cast: truncation, and the low 8 bits of a value past 255 (a blurred layer above 1).
            var eightBit = new byte[plane];
            for (var i = 0; i < plane; i++) eightBit[i] = unchecked((byte)(int)layers[image * plane + i]);
            var distance = DropShading(eightBit, (int)h, (int)w);
            var peak = 0f;
            for (var i = 0; i < plane; i++)
            {
                drops[image * plane + i] = eightBit[i] * distance[i];
                peak = Math.Max(peak, drops[image * plane + i]);
            }
            // No drop at all (a layer below the threshold everywhere): the reference divides 0 by 0; we add nothing.
            var scale = peak > 0 ? (float)p.Amount / peak : 0f;
            for (var i = 0; i < plane; i++) drops[image * plane + i] *= scale;
        }
        var m = HostTensor.From(drops, new long[] { n, 1, h, w });
        return x + m * torch.tensor(Water).reshape(1, c, 1, 1);
    }

    /// <summary>The water chain from the 8-bit layer [H·W] to the shading D [H·W] (0 … 255) that multiplies it.</summary>
    internal static float[] DropShading(byte[] layer, int h, int w)
    {
        var edges = OpenCvCanny(layer, h, w, low: 50, high: 150);
        var notEdge = edges.Select(e => (byte)(255 - e)).ToArray();
        var distance = ChamferDistance(notEdge, h, w).Select(d => Math.Min(d, 20f)).ToArray();
        var blurred = BoxBlur(distance.Select(v => (double)v).ToArray(), h, w).Select(v => (byte)(float)v).ToArray();   // NumPy astype(uint8): truncation
        var equalised = EqualiseHistogram(blurred);
        var embossed = Emboss(equalised, h, w);
        return BoxBlur(embossed.Select(v => (double)v).ToArray(), h, w).Select(v => (float)(byte)Math.Round(v, MidpointRounding.ToEven)).ToArray();
    }

    /// <summary>
    /// OpenCV's Canny (3×3 Sobel with the edge pixel repeated, L1 magnitude |dx| + |dy|, direction sectors at tan 22.5°
    /// in 15-bit fixed point, the left / upper neighbour compared strictly and the right / lower one with ≥ along rows
    /// and columns, both strictly on diagonals, zero magnitude outside; candidates above <paramref name="low"/>, seeds above
    /// <paramref name="high"/>, 8-connected hysteresis). Returns 255 on an edge, 0 elsewhere.
    /// </summary>
    internal static byte[] OpenCvCanny(byte[] image, int h, int w, int low, int high)
    {
        int Pixel(int r, int c) => image[Math.Clamp(r, 0, h - 1) * w + Math.Clamp(c, 0, w - 1)];
        var dx = new int[h * w];
        var dy = new int[h * w];
        var magnitude = new int[(h + 2) * (w + 2)];                       // a zero frame around the image
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++)
            {
                dx[r * w + c] = Pixel(r - 1, c + 1) + 2 * Pixel(r, c + 1) + Pixel(r + 1, c + 1) - Pixel(r - 1, c - 1) - 2 * Pixel(r, c - 1) - Pixel(r + 1, c - 1);
                dy[r * w + c] = Pixel(r + 1, c - 1) + 2 * Pixel(r + 1, c) + Pixel(r + 1, c + 1) - Pixel(r - 1, c - 1) - 2 * Pixel(r - 1, c) - Pixel(r - 1, c + 1);
                magnitude[(r + 1) * (w + 2) + c + 1] = Math.Abs(dx[r * w + c]) + Math.Abs(dy[r * w + c]);
            }
        int Magnitude(int r, int c) => magnitude[(r + 1) * (w + 2) + c + 1];

        const int Shift = 15, Tan22 = 13573;                             // round(tan 22.5° · 2^15)
        const byte Candidate = 0, NotEdge = 1, Edge = 2;
        var map = Enumerable.Repeat(NotEdge, (h + 2) * (w + 2)).ToArray();   // the frame stays NotEdge
        var stack = new Stack<int>();
        for (var r = 0; r < h; r++)
        {
            var previousSeeded = false;
            for (var c = 0; c < w; c++)
            {
                var at = (r + 1) * (w + 2) + c + 1;
                var m = Magnitude(r, c);
                if (m > low && IsLocalMaximum(r, c, m))
                {
                    if (!previousSeeded && m > high && map[at - (w + 2)] != Edge)
                    {
                        map[at] = Edge;
                        stack.Push(at);
                        previousSeeded = true;
                    }
                    else
                    {
                        map[at] = Candidate;
                    }
                    continue;
                }
                previousSeeded = false;
                map[at] = NotEdge;
            }
        }
        while (stack.Count > 0)
        {
            var at = stack.Pop();
            foreach (var neighbour in new[] { at - w - 3, at - w - 2, at - w - 1, at - 1, at + 1, at + w + 1, at + w + 2, at + w + 3 })
                if (map[neighbour] == Candidate)
                {
                    map[neighbour] = Edge;
                    stack.Push(neighbour);
                }
        }
        var edges = new byte[h * w];
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++)
                edges[r * w + c] = map[(r + 1) * (w + 2) + c + 1] == Edge ? (byte)255 : (byte)0;
        return edges;

        bool IsLocalMaximum(int r, int c, int m)
        {
            var (gx, gy) = (dx[r * w + c], dy[r * w + c]);
            long x = Math.Abs(gx), y = (long)Math.Abs(gy) << Shift;
            var tan22x = x * Tan22;
            if (y < tan22x) return m > Magnitude(r, c - 1) && m >= Magnitude(r, c + 1);
            var tan67x = tan22x + (x << (Shift + 1));
            if (y > tan67x) return m > Magnitude(r - 1, c) && m >= Magnitude(r + 1, c);
            var s = (gx ^ gy) < 0 ? -1 : 1;
            return m > Magnitude(r - 1, c - s) && m > Magnitude(r + 1, c + s);
        }
    }

    /// <summary>
    /// OpenCV's distanceTransform(DIST_L2, mask 5) of an 8-bit image: for every non-zero pixel the chamfer distance to the
    /// nearest zero one (steps 1, 1.4 and 2.1969 for the axial, diagonal and knight moves, in 16-bit fixed point, a forward
    /// and a backward pass); with no zero pixel at all, OpenCV's cap (2^31 − 1)/4 / 2^16, i.e. 8192.
    /// </summary>
    internal static float[] ChamferDistance(byte[] image, int h, int w)
    {
        const int Border = 2;
        const uint Infinity = int.MaxValue, Unreachable = int.MaxValue >> 2;
        var axial = (uint)Math.Round(1f * 65536, MidpointRounding.ToEven);
        var diagonal = (uint)Math.Round(1.4f * 65536.0, MidpointRounding.ToEven);
        var knight = (uint)Math.Round(2.1969f * 65536.0, MidpointRounding.ToEven);
        var stride = w + 2 * Border;
        var t = Enumerable.Repeat(Infinity, (h + 2 * Border) * stride).ToArray();
        int At(int r, int c) => (r + Border) * stride + c + Border;
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++)
            {
                if (image[r * w + c] == 0) { t[At(r, c)] = 0; continue; }
                var best = t[At(r - 2, c - 1)] + knight;
                best = Math.Min(best, t[At(r - 2, c + 1)] + knight);
                best = Math.Min(best, t[At(r - 1, c - 2)] + knight);
                best = Math.Min(best, t[At(r - 1, c - 1)] + diagonal);
                best = Math.Min(best, t[At(r - 1, c)] + axial);
                best = Math.Min(best, t[At(r - 1, c + 1)] + diagonal);
                best = Math.Min(best, t[At(r - 1, c + 2)] + knight);
                best = Math.Min(best, t[At(r, c - 1)] + axial);
                t[At(r, c)] = best;
            }
        var distance = new float[h * w];
        for (var r = h - 1; r >= 0; r--)
            for (var c = w - 1; c >= 0; c--)
            {
                var best = t[At(r, c)];
                if (best > axial)
                {
                    best = Math.Min(best, t[At(r + 2, c + 1)] + knight);
                    best = Math.Min(best, t[At(r + 2, c - 1)] + knight);
                    best = Math.Min(best, t[At(r + 1, c + 2)] + knight);
                    best = Math.Min(best, t[At(r + 1, c + 1)] + diagonal);
                    best = Math.Min(best, t[At(r + 1, c)] + axial);
                    best = Math.Min(best, t[At(r + 1, c - 1)] + diagonal);
                    best = Math.Min(best, t[At(r + 1, c - 2)] + knight);
                    best = Math.Min(best, t[At(r, c + 1)] + axial);
                    t[At(r, c)] = best;
                }
                distance[r * w + c] = (float)Math.Min(best, Unreachable) * (1f / 65536);
            }
        return distance;
    }

    /// <summary>OpenCV's 3×3 normalised box filter (BORDER_REFLECT_101), summed in double: the unrounded means.</summary>
    internal static double[] BoxBlur(double[] image, int h, int w) =>
        Correlate3x3(image, h, w, new double[,] { { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 } }).Select(sum => sum * (1.0 / 9)).ToArray();

    /// <summary>OpenCV's equalizeHist: the first populated level maps to 0, level i to round(255 · cdf(i) / (N − n_first)).</summary>
    internal static byte[] EqualiseHistogram(byte[] image)
    {
        var histogram = new int[256];
        foreach (var v in image) histogram[v]++;
        var first = 0;
        while (histogram[first] == 0) first++;
        if (histogram[first] == image.Length) return Enumerable.Repeat((byte)first, image.Length).ToArray();
        var scale = 255f / (image.Length - histogram[first]);
        var lookup = new byte[256];
        var sum = 0;
        for (var level = first + 1; level < 256; level++)
        {
            sum += histogram[level];
            lookup[level] = (byte)Math.Clamp(Math.Round(sum * scale, MidpointRounding.ToEven), 0, 255);
        }
        return image.Select(v => lookup[v]).ToArray();
    }

    /// <summary>OpenCV's filter2D with the emboss kernel [[−2,−1,0],[−1,1,1],[0,1,2]] (correlation, BORDER_REFLECT_101), saturated to 8 bits.</summary>
    internal static byte[] Emboss(byte[] image, int h, int w) =>
        Correlate3x3(image.Select(v => (double)v).ToArray(), h, w, new double[,] { { -2, -1, 0 }, { -1, 1, 1 }, { 0, 1, 2 } })
            .Select(sum => (byte)Math.Clamp(sum, 0, 255)).ToArray();

    /// <summary>Σ kernel[dr+1, dc+1] · image[r+dr, c+dc] over the 3×3 neighbourhood, the border mirrored about the edge pixel
    /// (OpenCV's BORDER_REFLECT_101). The sums here are exact in double (8-bit values, or multiples of 2^−16 up to 20).</summary>
    private static double[] Correlate3x3(double[] image, int h, int w, double[,] kernel)
    {
        var (rows, columns) = (ImageFilters.PadIndices(h, 1, 1, BorderMode.Mirror), ImageFilters.PadIndices(w, 1, 1, BorderMode.Mirror));
        var result = new double[h * w];
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++)
            {
                var sum = 0.0;
                for (var dr = 0; dr < 3; dr++)
                    for (var dc = 0; dc < 3; dc++)
                        sum += kernel[dr, dc] * image[rows[r + dr] * w + columns[c + dc]];
                result[r * w + c] = sum;
            }
        return result;
    }
}
