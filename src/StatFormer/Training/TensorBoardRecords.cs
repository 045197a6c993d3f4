using System.Buffers.Binary;
using StatFormer.IO;

namespace StatFormer.Training;

/// <summary>
/// The framing of TensorBoard event files, enough to cut a run's log back to its checkpoint: TFRecord records (uint64
/// length, masked CRC-32C of the length, the payload, masked CRC-32C of the payload) around tensorflow.Event messages,
/// whose field 2 is the step.
/// </summary>
/// <remarks>
/// A resumed run continues from its checkpoint's step, but a run that died after it may have logged later steps. Like
/// metrics.jsonl (<see cref="MetricsLog.TruncateAfter"/>), the event files then drop those records, so that the
/// resumed session's new file continues one curve instead of drawing the lost steps twice.
/// </remarks>
public static class TensorBoardRecords
{
    /// <summary>The run's event files, oldest first (their names start with the writer's clock ticks, as TensorBoard orders them).</summary>
    public static IReadOnlyList<string> Files(string folder) => Directory.Exists(folder)
        ? Directory.GetFiles(folder, TensorBoardLog.EventFilePrefix + "*").Order(StringComparer.Ordinal).ToList()
        : [];

    /// <summary>
    /// Keeps, in the oldest event file of <paramref name="folder"/>, the first file's header and every record of step ≤
    /// <paramref name="lastStep"/> from all files in order, and deletes the other files. A torn or corrupt record (a crash
    /// while writing) ends its file. Written to a temporary name and renamed. Nothing happens without event files.
    /// </summary>
    public static void TruncateAfter(string folder, long lastStep)
    {
        var files = Files(folder);
        if (files.Count == 0) return;
        var kept = new List<byte[]>();
        for (var f = 0; f < files.Count; f++)
        {
            foreach (var (record, step) in Read(File.ReadAllBytes(files[f])))
            {
                // Every writer starts its file with a step-0 header (file_version); one is enough.
                var isHeader = step == 0;
                if ((isHeader && f == 0) || (!isHeader && step <= lastStep)) kept.Add(record);
            }
        }
        AtomicFile.Write(files[0], stream =>
        {
            foreach (var record in kept) stream.Write(record);
        });
        foreach (var later in files.Skip(1)) File.Delete(later);
    }

    /// <summary>Deletes the event files of <paramref name="folder"/>: a run that starts afresh starts a fresh log.</summary>
    public static void DeleteAll(string folder)
    {
        foreach (var file in Files(folder)) File.Delete(file);
    }

    /// <summary>The whole records (framing included) of an event file and each one's step, up to the first torn or corrupt record.</summary>
    internal static IEnumerable<(byte[] Record, long Step)> Read(byte[] bytes)
    {
        var at = 0;
        while (at + 12 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8));
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)) != MaskedCrc(bytes.AsSpan(at, 8))) yield break;
            if (length > (ulong)(bytes.Length - at - 16)) yield break;
            var payload = bytes.AsSpan(at + 12, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length, 4)) != MaskedCrc(payload)) yield break;
            var step = StepOf(payload);
            if (step is null) yield break;
            yield return (bytes.AsSpan(at, 16 + (int)length).ToArray(), step.Value);
            at += 16 + (int)length;
        }
    }

    /// <summary>The step (field 2, varint) of an Event message, 0 when absent; null when the message does not parse.</summary>
    private static long? StepOf(ReadOnlySpan<byte> message)
    {
        long step = 0;
        var at = 0;
        while (at < message.Length)
        {
            if (!TryVarint(message, ref at, out var key)) return null;
            var (field, wire) = (key >> 3, key & 7);
            ulong value = 0;
            switch (wire)
            {
                case 0:
                    if (!TryVarint(message, ref at, out value)) return null;
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    if (!TryVarint(message, ref at, out var length) || length > (ulong)(message.Length - at)) return null;
                    at += (int)length;
                    break;
                default:
                    return null;
            }
            if (at > message.Length) return null;
            if (field == 2 && wire == 0) step = (long)value;
        }
        return step;
    }

    private static bool TryVarint(ReadOnlySpan<byte> data, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && at < data.Length; shift += 7)
        {
            var b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    /// <summary>TFRecord's masked CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): rotated right by 15 bits, plus 0xa282ead8.</summary>
    internal static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc ^= 0xFFFFFFFFu;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }
}
