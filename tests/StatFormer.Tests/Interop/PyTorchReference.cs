using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Interop;

/// <summary>
/// Runs Fixtures/pytorch/statformer_fixture.py with Debian's PyTorch (/usr/bin/python3 with python3-torch): the
/// independent reference the interop tests compare StatFormer against. A machine without it fails the test with
/// the command that installs it.
/// </summary>
internal static class PyTorchReference
{
    public const string Python = "/usr/bin/python3";
    public const string InstallHint = "these tests compare against real PyTorch: install it with `sudo apt-get install -y python3-torch` (Debian's PyTorch, used through /usr/bin/python3)";

    private static readonly Lazy<string?> Missing = new(FindProblem);

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", "statformer_fixture.py");

    /// <summary>Runs the fixture script with <paramref name="args"/>; fails the test with its stderr when it fails.</summary>
    public static void Run(params string[] args)
    {
        if (Missing.Value is { } problem) Assert.Fail($"{problem}; {InstallHint}");
        var (code, stderr) = Execute([Script, .. args]);
        Assert.True(code == 0, $"{Script} {string.Join(' ', args)} exited {code}:\n{stderr}");
    }

    /// <summary>Raw little-endian float32 values, as the script writes logits.</summary>
    public static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    /// <summary>The [B][T] token ids of ids.json as an int64 tensor [B,T].</summary>
    public static Tensor ReadIds(string path)
    {
        var rows = JsonSerializer.Deserialize<long[][]>(File.ReadAllText(path))!;
        return torch.tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);
    }

    /// <summary>The largest |a − b| over two equally long arrays.</summary>
    public static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0.0;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    private static string? FindProblem()
    {
        if (!File.Exists(Python)) return $"{Python} does not exist";
        var (code, stderr) = Execute(["-c", "import torch"]);
        return code == 0 ? null : $"{Python} cannot import torch ({stderr.Trim().Split('\n').LastOrDefault()})";
    }

    private static (int Code, string Stderr) Execute(string[] args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }
}
