namespace StatFormer.Tests;

/// <summary>
/// Locates the shared datasets folder (<c>shared/data</c>), which lives next to the repository
/// checkout rather than inside it, so tests find it by walking up from the test binaries.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string> Located = new(Locate);

    /// <summary>Absolute path of the <c>shared/data</c> folder; throws with the searched locations if absent.</summary>
    public static string SharedDataDir => Located.Value;

    /// <summary>Path of a file or folder under <see cref="SharedDataDir"/>.</summary>
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([SharedDataDir, .. parts]);

    private static string Locate()
    {
        var searched = new List<string>();
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[]
                     {
                         System.IO.Path.Combine(dir.FullName, "shared", "data"),
                         System.IO.Path.Combine(dir.FullName, "..", "shared", "data"),
                     })
            {
                var full = System.IO.Path.GetFullPath(candidate);
                if (Directory.Exists(full)) return full;
                searched.Add(full);
            }
        }
        throw new InvalidOperationException(
            "Could not find the shared datasets folder 'shared/data'. Looked in: " +
            string.Join(", ", searched.Distinct()));
    }
}
