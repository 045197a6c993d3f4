using System.Buffers.Binary;
using System.Text;

namespace StatFormer.Tests.Training;

/// <summary>One summary value of an event: a scalar, or a histogram's count, min, max and bucket counts.</summary>
internal sealed record TensorBoardValue(long Step, string Tag, float? Scalar, double HistogramCount, double HistogramMin, double HistogramMax, IReadOnlyList<double> Buckets);

/// <summary>
/// Reads TensorBoard event files from their specification, independently of any writer: TFRecord framing
/// (uint64 length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) around tensorflow.Event
/// protobuf messages (wall_time 1, step 2, file_version 3, summary 5 → value 1 → tag 1, simple_value 2, histo 5).
/// </summary>
internal static class TensorBoardEventFile
{
    /// <summary>The file_version of the first event and every summary value; fails on a bad CRC or a truncated record.</summary>
    public static (string FileVersion, List<TensorBoardValue> Values) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new List<TensorBoardValue>();
        string? version = null;
        var at = 0;
        while (at < bytes.Length)
        {
            Assert.True(at + 12 <= bytes.Length, $"{path}: truncated record header at byte {at}");
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8));
            Assert.Equal(MaskedCrc(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)));
            var payload = bytes.AsSpan(at + 12, length);
            Assert.True(at + 16 + length <= bytes.Length, $"{path}: truncated record at byte {at}");
            Assert.Equal(MaskedCrc(payload), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length, 4)));
            ReadEvent(payload.ToArray(), values, ref version);
            at += 16 + length;
        }
        return (version ?? "", values);
    }

    private static void ReadEvent(byte[] message, List<TensorBoardValue> values, ref string? version)
    {
        long step = 0;
        var summaries = new List<byte[]>();
        foreach (var (field, wire, value, data) in Fields(message))
        {
            if (field == 2 && wire == 0) step = (long)value;
            else if (field == 3 && wire == 2) version ??= Encoding.UTF8.GetString(data!);
            else if (field == 5 && wire == 2) summaries.Add(data!);
        }
        foreach (var summary in summaries)
            foreach (var (field, wire, _, data) in Fields(summary))
                if (field == 1 && wire == 2) values.Add(ReadValue(step, data!));
    }

    private static TensorBoardValue ReadValue(long step, byte[] message)
    {
        string tag = "";
        float? scalar = null;
        double count = 0, min = 0, max = 0;
        var buckets = new List<double>();
        foreach (var (field, wire, value, data) in Fields(message))
        {
            if (field == 1 && wire == 2) tag = Encoding.UTF8.GetString(data!);
            else if (field == 2 && wire == 5) scalar = BitConverter.Int32BitsToSingle((int)value);
            else if (field == 5 && wire == 2)
            {
                foreach (var (hField, hWire, hValue, hData) in Fields(data!))
                {
                    if (hWire == 1 && hField is 1 or 2 or 3)
                    {
                        var d = BitConverter.Int64BitsToDouble((long)hValue);
                        if (hField == 1) min = d; else if (hField == 2) max = d; else count = d;
                    }
                    else if (hField == 7 && hWire == 2)
                    {
                        for (var i = 0; i + 8 <= hData!.Length; i += 8) buckets.Add(BinaryPrimitives.ReadDoubleLittleEndian(hData.AsSpan(i, 8)));
                    }
                    else if (hField == 7 && hWire == 1) buckets.Add(BitConverter.Int64BitsToDouble((long)hValue));
                }
            }
        }
        return new TensorBoardValue(step, tag, scalar, count, min, max, buckets);
    }

    /// <summary>The fields of a protobuf message: number, wire type, the varint/fixed value, the bytes of a length-delimited field.</summary>
    private static IEnumerable<(int Field, int Wire, ulong Value, byte[]? Data)> Fields(byte[] message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var key = Varint(message, ref at);
            var (field, wire) = ((int)(key >> 3), (int)(key & 7));
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(message, ref at), null); break;
                case 1: yield return (field, wire, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(at, 8)), null); at += 8; break;
                case 5: yield return (field, wire, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(at, 4)), null); at += 4; break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    yield return (field, wire, 0, message.AsSpan(at, length).ToArray());
                    at += length;
                    break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int at)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[at++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
    }

    /// <summary>TFRecord's masked CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): rotate right by 15, add 0xa282ead8.</summary>
    private static uint MaskedCrc(ReadOnlySpan<byte> data)
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
