using StatFormer.Vision.Corruptions;
using static TorchSharp.torch;

namespace StatFormer.Tests.Vision.Corruptions;

public class SpatterTests
{
    // A 12 × 20 liquid layer as 8 bits (N(.65, .3) blurred by σ 1, zero below .69, ×255: severity 3's recipe, drawn by
    // NumPy), and what OpenCV 4.6 (Debian python3-opencv) made of it: cv2.Canny(L, 50, 150), and the shading D after
    // distanceTransform(255 − edges, DIST_L2, 5), threshold at 20, blur, equalizeHist, the emboss filter2D and blur.
    private static readonly string[] Layer =
    [
        "0 0 203 217 192 0 0 180 181 0 0 0 0 232 234 187 0 178 180 0",
        "0 180 197 204 188 0 0 0 0 0 0 0 0 200 201 0 0 0 0 0",
        "0 182 189 183 0 0 0 0 0 0 0 0 0 0 179 0 0 0 0 178",
        "0 181 0 0 0 0 0 0 184 0 0 0 0 0 192 0 0 0 0 189",
        "0 0 0 0 190 0 0 0 196 186 0 0 0 179 212 211 184 0 0 0",
        "0 0 0 202 229 206 176 0 189 194 0 0 0 0 196 218 207 0 0 0",
        "0 0 0 213 233 210 0 0 0 188 0 0 0 0 0 190 192 0 0 0",
        "177 176 191 201 200 191 0 0 0 182 0 0 0 0 0 0 0 0 0 183",
        "181 194 202 190 175 0 0 0 183 186 181 0 0 0 0 0 0 0 184 194",
        "0 182 190 188 178 0 0 0 188 191 181 0 0 0 0 0 0 185 183 0",
        "0 0 184 197 186 0 0 0 187 191 176 0 0 0 0 0 0 187 0 0",
        "0 0 197 198 0 0 0 187 187 191 177 0 0 0 0 0 178 189 0 0",
    ];

    private static readonly string[] OpenCvEdges =
    [
        ". 1 . . 1 . . 1 1 . . . . 1 . 1 1 1 1 .",
        ". 1 . . 1 . . . . . . . . 1 . 1 . . . .",
        ". 1 . 1 1 . . . . . . . . 1 . 1 . . . 1",
        ". . . . . . . . . 1 . . . 1 . 1 . . . 1",
        ". . . 1 1 1 . 1 . 1 . . . 1 . . 1 . . .",
        ". . . 1 . 1 . . . . . . . 1 1 . 1 . . .",
        ". . 1 . . . 1 . 1 . 1 . . . 1 1 1 . . .",
        "1 1 1 . . 1 . . 1 . 1 . . . . . . . 1 1",
        ". . . . 1 1 . . 1 1 1 . . . . . . 1 . .",
        "1 1 . . 1 . . . 1 . 1 . . . . . 1 . . 1",
        ". 1 . . 1 . . 1 . . 1 . . . . . 1 . 1 .",
        ". . 1 . 1 . . 1 . . 1 . . . . . 1 . 1 .",
    ];

    private static readonly string[] OpenCvShading =
    [
        "0 0 0 0 85 170 227 224 224 243 236 151 76 0 0 57 107 107 50 0",
        "79 54 25 0 85 170 198 167 167 214 236 151 76 0 0 57 110 110 54 0",
        "158 107 50 0 82 164 192 139 113 164 186 129 50 0 0 82 164 164 110 28",
        "183 132 50 0 54 107 107 54 54 135 161 107 25 0 0 54 139 167 170 113",
        "104 79 25 0 25 50 50 25 25 82 82 57 0 0 0 25 110 167 224 195",
        "25 25 0 0 0 0 0 0 25 54 82 85 85 82 54 25 82 164 217 217",
        "0 0 0 0 0 0 0 0 0 28 85 142 170 167 110 54 54 107 132 132",
        "0 0 0 0 0 0 0 0 0 57 142 227 255 249 164 79 25 50 50 50",
        "0 0 0 0 0 0 0 0 0 85 170 255 255 249 164 79 0 0 0 0",
        "0 0 0 0 0 0 0 0 0 85 170 255 255 243 158 73 0 0 0 0",
        "0 0 0 0 0 0 0 0 0 85 170 255 255 236 151 66 0 0 0 0",
        "0 0 0 0 0 0 0 0 0 85 170 255 255 233 148 63 0 0 0 0",
    ];

    private static int[] Numbers(string[] rows) => rows.SelectMany(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).ToArray();

    [Fact]
    public void CannyMatchesOpenCv()
    {
        var layer = Numbers(Layer).Select(v => (byte)v).ToArray();
        var edges = Spatter.OpenCvCanny(layer, 12, 20, low: 50, high: 150);
        var expected = OpenCvEdges.SelectMany(r => r.Split(' ')).Select(v => v == "1" ? (byte)255 : (byte)0).ToArray();
        Assert.Equal(expected, edges);
    }

    [Fact]
    public void TheDropShadingMatchesOpenCvsChain()
    {
        var layer = Numbers(Layer).Select(v => (byte)v).ToArray();
        var shading = Spatter.DropShading(layer, 12, 20);
        Assert.Equal(Numbers(OpenCvShading).Select(v => (float)v).ToArray(), shading);
    }

    [Fact]
    public void ChamferDistanceTakesOpenCvsFixedPointSteps()
    {
        // One zero pixel in the middle of a 5 × 5 image: axial 1, diagonal 1.4, knight 2.1969 and two-step moves, each
        // in OpenCV's 16-bit fixed point (1.4f · 2^16 rounds to 91750, 2.1969f · 2^16 to 143976).
        var image = Enumerable.Repeat((byte)255, 25).ToArray();
        image[12] = 0;
        var d = Spatter.ChamferDistance(image, 5, 5);
        float Fixed(int steps) => steps / 65536f;
        Assert.Equal(0f, d[12]);
        Assert.Equal(1f, d[7]);                                   // (1, 2): one axial step
        Assert.Equal(Fixed(91750), d[6]);                         // (1, 1): diagonal
        Assert.Equal(Fixed(143976), d[1]);                        // (0, 1): knight
        Assert.Equal(2f, d[2]);                                   // (0, 2): two axial steps
        Assert.Equal(Fixed(2 * 91750), d[0]);                     // (0, 0): two diagonals
        // With no zero pixel at all, OpenCV 4.6 answers 8192 everywhere (its cap, (2^31 − 1)/4 in fixed point).
        Assert.All(Spatter.ChamferDistance(Enumerable.Repeat((byte)1, 6).ToArray(), 2, 3), v => Assert.Equal(8192f, v));
    }

    [Fact]
    public void EqualisedLevelsRoundHalfToEven()
    {
        // Levels 0, 0, 1, 2: the first populated level maps to 0, then 255 · 1/2 = 127.5 → 128 and 255 · 2/2 = 255.
        Assert.Equal(new byte[] { 0, 0, 128, 255 }, Spatter.EqualiseHistogram([0, 0, 1, 2]));
        Assert.Equal(new byte[] { 7, 7 }, Spatter.EqualiseHistogram([7, 7]));
    }

    [Fact]
    public void WaterAddsPaleTurquoiseAndMudBlendsTowardsBrown()
    {
        // On black images the water drops are m · (175, 238, 238)/255, so the channels stay in that ratio.
        using var black = zeros(4, 3, 32, 32);
        using var g = ImageCorruptions.GeneratorFor(0, CorruptionSet.Cifar10C, CorruptionKind.Spatter, 3);
        using var wet = ImageCorruptions.Apply(CorruptionSet.Cifar10C, CorruptionKind.Spatter, 3, black, g);
        Assert.True(wet.max().item<float>() > 0.1, "severity 3 should leave drops");
        using var water = wet[.., 0] * (238f / 175f);
        Assert.True(water.allclose(wet[.., 1], rtol: 1e-5, atol: 1e-6) && wet[.., 1].equal(wet[.., 2]).all().item<bool>());
        // The drop mask peaks at the severity's amount (0.5 for 1–3): 175/255 · 0.5 in the red channel of some pixel.
        Assert.Equal(175f / 255 * 0.5f, wet[.., 0].amax([1, 2]).max().item<float>(), 5);

        // On white images mud takes 1 − m·(1 − brown) per channel: the losses of red and blue keep (1 − 63/255) : (1 − 20/255).
        using var white = ones(4, 3, 32, 32);
        using var g5 = ImageCorruptions.GeneratorFor(0, CorruptionSet.Cifar10C, CorruptionKind.Spatter, 5);
        using var muddy = ImageCorruptions.Apply(CorruptionSet.Cifar10C, CorruptionKind.Spatter, 5, white, g5);
        using var loss = 1 - muddy;
        using var touched = loss[.., 2] > 0;
        Assert.True(touched.any().item<bool>(), "severity 5 should leave mud");
        using var ratio = loss[.., 0].masked_select(touched) / loss[.., 2].masked_select(touched);
        Assert.True(ratio.allclose(full_like(ratio, (1 - 63 / 255.0) / (1 - 20 / 255.0)), rtol: 1e-4, atol: 0));
        // Kept only where the blurred mask reaches 0.8.
        Assert.True(loss[.., 2].masked_select(touched).min().item<float>() >= 0.8f * (1 - 20f / 255) - 1e-5f);
    }
}
