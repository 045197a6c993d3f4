namespace StatFormer.Vision.Data;

/// <summary>What an image load is doing.</summary>
public enum ImageLoadStage
{
    /// <summary>Decoding image files: <see cref="ImageLoadProgress.Done"/> of <see cref="ImageLoadProgress.Total"/>.</summary>
    Decoding,
    /// <summary>The decoded images were read from the cache file; nothing was decoded.</summary>
    CacheHit,
    /// <summary>The decoded images were written to the cache file.</summary>
    CacheWritten,
    /// <summary>IDX files (MNIST) were read.</summary>
    Read,
}

/// <summary>
/// A progress report of <see cref="VisionData.Load"/>; the CLI draws the bar from Done/Total. Decoding reports come from
/// the decoding threads and may arrive slightly out of order, so a bar should show the largest Done seen.
/// </summary>
/// <param name="CacheFile">The cache file for CacheHit and CacheWritten, else null.</param>
public sealed record ImageLoadProgress(ImageLoadStage Stage, long Done, long Total, string? CacheFile = null);
