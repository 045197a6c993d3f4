using System.Diagnostics;
using System.Text;
using StatFormer.IO;
using StatFormer.Tests.Training;
using static StatFormer.Tests.Cli.CliHarness;
using static StatFormer.Tests.Fairness.Experiments.FairRunFixtures;

namespace StatFormer.Tests.Cli;

/// <summary>
/// Run folders as a user meets them: a second process on a folder in use fails at once naming the first one's PID,
/// and a folder holding a finished run is refused unless --resume (continue) or --overwrite (replace) is given.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class RunFolderCliTests : IDisposable
{
    private static string[] TinyLm(int steps = 6) => ["lm", "train", "--data", "synthetic", .. Tiny(steps)];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ASecondProcessOnAFolderInUseFailsNamingTheFirstsPidAndAKilledOnesLockBlocksNobody()
    {
        var outDir = _dir.File("busy");
        using var first = new CliProcess([.. TinyLm(steps: 1_000_000), "--out", outDir]);
        // Training has begun (the first metrics line is written after the folder was locked).
        first.WaitUntil(() => File.Exists(Path.Combine(outDir, "metrics.jsonl")) && new FileInfo(Path.Combine(outDir, "metrics.jsonl")).Length > 0);
        Assert.Equal(first.Id, RunFolderLock.ReadOwner(outDir));

        using var second = new CliProcess([.. TinyLm(), "--seed", "2", "--out", outDir]);
        var result = second.WaitForExit();
        Assert.False(first.HasExited, $"the first run must still be running\n{first.Output}");
        AssertOneLineError(result, outDir, $"process {first.Id}", "--out");

        // Killed, the first process leaves its .lock and .lock.pid behind; the OS lock went with it.
        first.Kill();
        Assert.True(File.Exists(Path.Combine(outDir, RunFolderLock.LockFileName)));
        Assert.Equal(first.Id, RunFolderLock.ReadOwner(outDir));
        var replaced = Run([.. TinyLm(), "--overwrite", "--out", outDir, "--json"]);
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.Equal(6, replaced.Json().GetProperty("steps").GetInt64());
    }

    [Fact]
    public void LmTrainIntoAFinishedRunIsRefusedWithoutFlagsContinuedWithResumeAndReplacedWithOverwrite()
    {
        var outDir = _dir.File("done");
        var trained = Run([.. TinyLm(), "--out", outDir]);
        Assert.True(trained.ExitCode == 0, trained.ToString());
        string[] runFiles = ["summary.json", "metrics.jsonl", "checkpoint.bin", "best_model.bin"];
        var before = runFiles.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(outDir, f)));

        var refused = Run([.. TinyLm(), "--seed", "1", "--out", outDir]);
        AssertOneLineError(refused, outDir, "--resume", "--overwrite");
        foreach (var file in runFiles) Assert.Equal(before[file], File.ReadAllBytes(Path.Combine(outDir, file)));

        AssertOneLineError(Run([.. TinyLm(), "--resume", "--overwrite", "--out", outDir]), "--resume", "--overwrite");

        // --resume continues: the six logged steps are kept byte for byte and steps 7-8 follow.
        var resumed = Run([.. TinyLm(steps: 8), "--resume", "--out", outDir, "--json"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(8, resumed.Json().GetProperty("steps").GetInt64());
        var resumedMetrics = File.ReadAllBytes(Path.Combine(outDir, "metrics.jsonl"));
        Assert.Equal(before["metrics.jsonl"], resumedMetrics[..before["metrics.jsonl"].Length]);
        Assert.Equal(8, MetricSteps(outDir).Max());

        // --overwrite replaces: the same records as a fresh run of those settings, none left from the old one.
        var replaced = Run([.. TinyLm(steps: 4), "--seed", "1", "--overwrite", "--out", outDir, "--json"]);
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.Equal(1, replaced.Json().GetProperty("seed").GetInt32());
        var fresh = _dir.File("fresh");
        Assert.Equal(0, Run([.. TinyLm(steps: 4), "--seed", "1", "--out", fresh]).ExitCode);
        Assert.Equal(MetricRecords(fresh), MetricRecords(outDir));
        Assert.Equal(File.ReadAllBytes(Path.Combine(fresh, "best_model.bin")), File.ReadAllBytes(Path.Combine(outDir, "best_model.bin")));
    }

    [Fact]
    public void CompareIntoAFinishedComparisonIsRefusedUnlessResumedOrOverwritten()
    {
        var outDir = _dir.File("cmp");
        string[] compare = ["compare", "--data", "synthetic", "--seeds", "1", "--variants", "softmax", .. Tiny(steps: 4), "--out", outDir];
        Assert.Equal(0, Run(compare).ExitCode);
        var report = File.ReadAllBytes(Path.Combine(outDir, "report.md"));

        AssertOneLineError(Run(compare), outDir, "--resume", "--overwrite");
        Assert.Equal(report, File.ReadAllBytes(Path.Combine(outDir, "report.md")));

        var resumed = Run([.. compare, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("softmax seed 0: finished earlier", resumed.Stderr);

        var replaced = Run([.. compare, "--overwrite"]);
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.DoesNotContain("finished earlier", replaced.Stderr);
        Assert.Contains("softmax seed 0: training", replaced.Stderr);
    }

    [Fact]
    public void FairTrainIntoAFinishedRunIsRefused()
    {
        var outDir = _dir.File("fair");
        string[] train = ["fair", "train", "--data", "synthetic", "--method", "infonce", "--epochs", "1", .. TinyArgs()[2..], "--out", outDir];
        Assert.Equal(0, Run(train).ExitCode);
        var summary = File.ReadAllBytes(Path.Combine(outDir, "summary.json"));
        AssertOneLineError(Run(train), outDir, "--resume", "--overwrite");
        Assert.Equal(summary, File.ReadAllBytes(Path.Combine(outDir, "summary.json")));
    }

    private static IEnumerable<long> MetricSteps(string runDir) =>
        File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());

    /// <summary>Step, split and loss of every metrics line (timings differ between runs).</summary>
    private static List<string> MetricRecords(string runDir) =>
        File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Select(l =>
        {
            var r = System.Text.Json.JsonDocument.Parse(l).RootElement;
            return $"{r.GetProperty("step")} {r.GetProperty("split")} {r.GetProperty("loss")}";
        }).ToList();

    /// <summary>The built CLI as a child process (the test output folder holds StatFormer.Cli.dll with its runtimeconfig), output captured.</summary>
    private sealed class CliProcess : IDisposable
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();

        public CliProcess(IEnumerable<string> args)
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
            var start = new ProcessStartInfo(host)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                WorkingDirectory = Path.GetTempPath(),
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "StatFormer.Cli.dll"));
            foreach (var arg in args) start.ArgumentList.Add(arg);
            start.Environment["OMP_NUM_THREADS"] = "1";
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        public bool HasExited => _process.HasExited;

        public string Output
        {
            get
            {
                lock (_stdout) lock (_stderr) return $"--- stdout ---\n{_stdout}\n--- stderr ---\n{_stderr}";
            }
        }

        public void WaitUntil(Func<bool> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.False(_process.HasExited, $"the process ended early (exit {(_process.HasExited ? _process.ExitCode : 0)})\n{Output}");
                Assert.True(clock.Elapsed < Patience, $"timed out waiting\n{Output}");
                Thread.Sleep(100);
            }
        }

        public CliResult WaitForExit()
        {
            Assert.True(_process.WaitForExit(Patience), $"the process did not end\n{Output}");
            _process.WaitForExit(); // drains the asynchronous output readers
            lock (_stdout) lock (_stderr) return new CliResult(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
        }

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
        }
    }
}
