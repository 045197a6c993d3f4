using System.Text;

namespace StatFormer.IO;

/// <summary>
/// Writes files so that a crash never leaves a half-written result: the content goes to a
/// temporary sibling first and is then renamed over the target (rename is atomic on one volume).
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string contents) =>
        Write(path, stream =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(contents);
            stream.Write(bytes, 0, bytes.Length);
        });

    public static void WriteAllBytes(string path, byte[] contents) =>
        Write(path, stream => stream.Write(contents, 0, contents.Length));

    /// <summary>Runs <paramref name="writer"/> against a temp file, flushes it to disk, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> writer)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                writer(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
