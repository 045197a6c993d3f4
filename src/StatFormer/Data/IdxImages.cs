namespace StatFormer.Data;

/// <summary>
/// Images read from an IDX3 file (e.g. MNIST): <paramref name="Pixels"/> holds <paramref name="Count"/> images of
/// <paramref name="Rows"/>×<paramref name="Cols"/> unsigned bytes, row-major, one image after another.
/// </summary>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Cols)
{
    /// <summary>Bytes per image (Rows × Cols).</summary>
    public int PixelsPerImage => Rows * Cols;

    /// <summary>The first <paramref name="count"/> images (a copy), for subset runs.</summary>
    public IdxImages Take(int count)
    {
        if (count < 0 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"must be between 0 and {Count}");
        return new IdxImages(Pixels[..(count * PixelsPerImage)], count, Rows, Cols);
    }
}
