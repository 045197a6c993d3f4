using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using StatFormer.IO;
using TorchSharp;
using TorchSharp.Modules;

namespace StatFormer.Training;

/// <summary>
/// Single-file training checkpoint: magic, format version, caller metadata, trainer counters, RNG
/// state, model weights, optimizer state, and a SHA-256 of all preceding bytes. The checksum is
/// verified before anything is parsed, so a truncated or damaged file is reported as such instead
/// of loading half a model.
/// </summary>
public static class Checkpoint
{
    public const int FormatVersion = 2;
    // Version 1 (before auxiliary losses) lacks the aux window sum; it is still read.
    private const int OldestReadableVersion = 1;
    private static readonly byte[] Magic = "STATFORMER-CKPT\n"u8.ToArray();
    private const int HashLength = 32;

    public static void Save(string path, CheckpointContents contents, torch.nn.Module model, OptimizerHelper? optimizer)
    {
        AtomicFile.Write(path, stream =>
        {
            using var hashing = new HashingWriteStream(stream);
            using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(contents.MetadataJson);
                writer.Write(contents.Step);
                writer.Write(contents.BestValidLoss.HasValue);
                writer.Write(contents.BestValidLoss ?? 0.0);
                writer.Write(contents.BestStep ?? -1L);
                writer.Write(contents.EvaluationsWithoutImprovement);
                writer.Write(contents.TrainingTime.Ticks);
                writer.Write(contents.LastTrainLoss);
                writer.Write(contents.LogWindowLossSum);
                writer.Write(contents.LogWindowSteps);
                writer.Write(contents.LogWindowAuxLossSum);
                writer.Write(contents.RngState.Length);
                writer.Write(contents.RngState);
                model.save(writer);
                writer.Write(optimizer is not null);
                optimizer?.save_state_dict(writer);
                writer.Flush();
            }
            stream.Write(hashing.GetHashAndReset());
        });
    }

    /// <summary>
    /// Verifies the file, copies the weights into <paramref name="model"/> and, when given, the
    /// moments into <paramref name="optimizer"/>, and returns the rest.
    /// </summary>
    public static CheckpointContents Load(string path, torch.nn.Module model, OptimizerHelper? optimizer = null)
    {
        var (reader, version) = OpenVerified(path);
        using var _ = reader;
        var contents = ReadContents(reader, version, path);
        try
        {
            model.load(reader);
            var hasOptimizer = reader.ReadBoolean();
            if (optimizer is not null)
            {
                if (!hasOptimizer) throw new InvalidDataException("it holds no optimizer state");
                optimizer.load_state_dict(reader);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or InvalidOperationException or ExternalException)
        {
            throw new InvalidDataException($"checkpoint {path} does not fit this model: {OneLine(e.Message)}", e);
        }
        return contents;
    }

    /// <summary>The caller metadata alone, so the CLI can rebuild the model before loading weights.</summary>
    public static string ReadMetadata(string path)
    {
        var (reader, version) = OpenVerified(path);
        using var _ = reader;
        return ReadContents(reader, version, path).MetadataJson;
    }

    /// <summary>
    /// The fields in which two metadata objects (JSON) differ, nested ones by their dotted path (stack.moe.layer.top_k),
    /// each as "name: saved in the checkpoint, expected now" ("-" for a missing field): what a resume of another run's
    /// folder is refused with.
    /// </summary>
    public static List<string> MetadataDifferences(string savedJson, string expectedJson)
    {
        using var saved = System.Text.Json.JsonDocument.Parse(savedJson);
        using var expected = System.Text.Json.JsonDocument.Parse(expectedJson);
        var before = Leaves(saved.RootElement, "");
        var after = Leaves(expected.RootElement, "");
        return before.Keys.Union(after.Keys)
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"{k}: {before.GetValueOrDefault(k) ?? "-"} in the checkpoint, {after.GetValueOrDefault(k) ?? "-"} now")
            .ToList();
    }

    private static Dictionary<string, string> Leaves(System.Text.Json.JsonElement element, string prefix)
    {
        var leaves = new Dictionary<string, string>();
        foreach (var p in element.EnumerateObject())
        {
            if (p.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
                foreach (var (k, v) in Leaves(p.Value, $"{prefix}{p.Name}.")) leaves[k] = v;
            else leaves[prefix + p.Name] = p.Value.GetRawText();
        }
        return leaves;
    }

    private static (BinaryReader Reader, int Version) OpenVerified(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"checkpoint {path} does not exist", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"checkpoint {path} cannot be read: {OneLine(e.Message)}", e);
        }
        try
        {
            var header = new byte[Magic.Length + sizeof(int)];
            if (stream.Length < header.Length + HashLength) throw Corrupt(path, "file too short");
            stream.ReadExactly(header);
            if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic)) throw Corrupt(path, "missing header");
            var version = BitConverter.ToInt32(header, Magic.Length);
            if (version < OldestReadableVersion || version > FormatVersion)
                throw new InvalidDataException($"checkpoint {path} has format version {version}; this build reads versions {OldestReadableVersion}..{FormatVersion}");
            VerifyChecksum(stream, path);
            stream.Position = header.Length;
            return (new BinaryReader(stream, Encoding.UTF8, leaveOpen: false), version);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static void VerifyChecksum(FileStream stream, string path)
    {
        var payloadLength = stream.Length - HashLength;
        stream.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long left = payloadLength; left > 0;)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0) throw Corrupt(path, "file ended early");
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
        var stored = new byte[HashLength];
        stream.ReadExactly(stored);
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(stored))
            throw Corrupt(path, "checksum mismatch (truncated or damaged)");
    }

    private static CheckpointContents ReadContents(BinaryReader reader, int version, string path)
    {
        try
        {
            var metadata = reader.ReadString();
            var step = reader.ReadInt64();
            var hasBest = reader.ReadBoolean();
            var bestLoss = reader.ReadDouble();
            var bestStep = reader.ReadInt64();
            var evalsWithoutImprovement = reader.ReadInt32();
            var ticks = reader.ReadInt64();
            var lastTrainLoss = reader.ReadDouble();
            var windowSum = reader.ReadDouble();
            var windowSteps = reader.ReadInt32();
            var windowAuxSum = version >= 2 ? reader.ReadDouble() : 0.0;
            var rngLength = reader.ReadInt32();
            if (step < 0 || rngLength < 0 || rngLength > reader.BaseStream.Length)
                throw Corrupt(path, "implausible counters");
            var rng = reader.ReadBytes(rngLength);
            if (rng.Length != rngLength) throw Corrupt(path, "file ended early");
            return new CheckpointContents(metadata, step, hasBest ? bestLoss : null, hasBest ? bestStep : null,
                evalsWithoutImprovement, TimeSpan.FromTicks(ticks), lastTrainLoss, windowSum, windowSteps, rng, windowAuxSum);
        }
        catch (Exception e) when (e is EndOfStreamException or DecoderFallbackException or FormatException or IOException)
        {
            throw Corrupt(path, OneLine(e.Message));
        }
    }

    private static InvalidDataException Corrupt(string path, string reason) =>
        new($"checkpoint {path} is corrupt or not a StatFormer checkpoint: {reason}");

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
