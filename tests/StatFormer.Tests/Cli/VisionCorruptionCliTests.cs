using System.Text.Json;
using StatFormer.Reporting;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;

namespace StatFormer.Tests.Cli;

/// <summary>The corruption evaluation through `vision compare` and `vision eval`: equal footing, mCE against the softmax ViT, plots, errors.</summary>
[Collection(CliCollection.Name)]
public sealed class VisionCorruptionCliTests
{
    /// <summary>The tiny synthetic set in colour (CIFAR-10-C applies to 3 channels).</summary>
    private static string[] TinyColour(string outDir, int steps = 3)
    {
        var args = VisionCliTests.TinyVision(outDir, steps);
        args[Array.IndexOf(args, "--synthetic-channels") + 1] = "3";
        return [.. args, "--attacks", "fgsm", "--eps", "2/255"];
    }

    private static readonly string[] Corruptions = ["--corruptions", "gaussian-noise,fog,jpeg,saturate", "--severities", "1,5", "--corruption-images", "16"];

    [Fact]
    public void CompareScoresEveryVariantOnTheSameCorruptedImagesAndEvalReproducesIt()
    {
        using var dir = new TempDir();
        var compare = Run(["vision", "compare", .. TinyColour(dir.Path), .. Corruptions, "--seeds", "2", "--variants", "elliptical,softmax", "--json"]);
        Assert.True(compare.ExitCode == 0, compare.ToString());
        var summary = compare.Json();
        var variants = summary.GetProperty("variants").EnumerateArray().ToList();
        // The softmax ViT is the reference whatever its position: its mCE is 100 at every seed.
        var softmax = variants[1].GetProperty("corruption");
        Assert.Equal("softmax", softmax.GetProperty("reference").GetString());
        Assert.Equal(100, softmax.GetProperty("mean_ce").GetProperty("mean").GetDouble(), 9);
        Assert.Equal(0, softmax.GetProperty("mean_ce").GetProperty("std").GetDouble(), 9);
        var elliptical = variants[0].GetProperty("corruption");
        Assert.True(double.IsFinite(elliptical.GetProperty("mean_ce").GetProperty("mean").GetDouble()));
        // Saturate is an extra: reported with a CE, not in the mCE; the set's left-out members are named.
        var curves = elliptical.GetProperty("corruptions").EnumerateArray().ToList();
        Assert.Equal(["gaussian-noise", "fog", "jpeg", "saturate"], curves.Select(c => c.GetProperty("corruption").GetString()!));
        Assert.True(curves[3].GetProperty("extra").GetBoolean());
        Assert.Equal([1, 5], curves[0].GetProperty("severities").EnumerateArray().Select(s => s.GetProperty("severity").GetInt32()));
        var run = summary.GetProperty("runs")[0].GetProperty("corruption");
        Assert.Equal(16, run.GetProperty("images").GetInt32());
        Assert.Contains(run.GetProperty("left_out").EnumerateArray(), l => l.GetProperty("corruption").GetString() == "frost");
        Assert.Equal("all-5", run.GetProperty("ood")[0].GetProperty("shifted").GetString());
        var plots = summary.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        foreach (var file in new[] { VisionCorruptionReport.AccuracyFileName, VisionCorruptionReport.SeverityFileName, VisionCorruptionReport.ExampleGridFileName, VisionComparisonReport.ExampleGridFileName })
        {
            Assert.Contains(file, plots);
            AssertPng(Path.Combine(dir.Path, file));
        }
        var report = File.ReadAllText(Path.Combine(dir.Path, "report.md"));
        Assert.Contains("Common corruptions (cifar10-c)", report);
        Assert.Contains("relative mCE", report);

        // The same run evaluated again with the same corruption options sees the same images and draws: identical
        // accuracies and ECEs; against itself as the reference its mCE is 100.
        var folder = Path.Combine(dir.Path, "softmax-seed0");
        var eval = Run(["vision", "eval", "--run", folder, .. Corruptions, "--attacks", "fgsm", "--eps", "1/255", "--reference-run", folder, "--json"]);
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var again = eval.Json();
        var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json"))).RootElement.GetProperty("corruption");
        Assert.Equal(Canonical(saved), Canonical(again.GetProperty("corruption")));
        Assert.Equal(100, again.GetProperty("corruption_errors").GetProperty("mean_ce").GetDouble(), 9);
    }

    [Fact]
    public void CorruptionsTheImagesCannotHaveAreOneLineErrorsBeforeTraining()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run(["vision", "train", .. TinyColour(dir.Path), "--corruptions", "frost"]), "--corruptions", "frost photographs");
        AssertOneLineError(Run(["vision", "train", .. TinyColour(dir.Path), "--corruptions", "shear"]), "--corruptions", "not a member of cifar10-c");
        AssertOneLineError(Run(["vision", "train", .. TinyColour(dir.Path), "--corruptions", "fog", "--severities", "0..2"]), "--severities");
        AssertOneLineError(Run(["vision", "train", .. TinyColour(dir.Path), "--corruptions", "fog", "--severities", "1..6"]), "--severities");
        // The grey tiny set is 8×8, not MNIST's 28×28.
        AssertOneLineError(Run(["vision", "train", .. VisionCliTests.TinyVision(dir.Path), "--corruptions", "all"]), "--corruptions", "28×28");
        Assert.False(File.Exists(Path.Combine(dir.Path, "checkpoint.bin")));
    }
}
