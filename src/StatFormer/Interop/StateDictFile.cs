using System.Collections;
using StatFormer.IO;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace StatFormer.Interop;

/// <summary>
/// Reads and writes state dicts (parameter name → tensor) as safetensors or PyTorch (<c>torch.save</c>) files, through
/// TorchSharp.PyBridge. Reading recognises the format by its first bytes, whatever the file is called. Writing is
/// atomic (a temporary name, then a rename), so an interrupted export leaves no half-written file.
/// </summary>
public static class StateDictFile
{
    /// <summary>The format of the file at <paramref name="path"/>: a zip archive is PyTorch's, anything else must be safetensors.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static StateDictFormat Detect(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        var read = stream.Read(head);
        return read == 4 && head[0] == 0x50 && head[1] == 0x4b && head[2] == 0x03 && head[3] == 0x04
            ? StateDictFormat.Pytorch
            : StateDictFormat.Safetensors;
    }

    /// <summary>The format an output name asks for: <c>.safetensors</c>, or <c>.pt</c>/<c>.pth</c>/<c>.bin</c> for PyTorch; null otherwise.</summary>
    public static StateDictFormat? FromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".safetensors" => StateDictFormat.Safetensors,
        ".pt" or ".pth" or ".bin" => StateDictFormat.Pytorch,
        _ => null,
    };

    /// <summary>
    /// Every tensor of the file, on the CPU, detached from any dispose scope (the caller disposes them, e.g. with
    /// <see cref="Dispose"/>). Buffers that PyTorch saves beside the parameters (such as GPT-2's causal masks) are included.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is neither a readable safetensors file nor a <c>torch.save</c> state dict.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var format = Detect(path);
        try
        {
            using var stream = File.OpenRead(path);
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            if (format == StateDictFormat.Pytorch)
            {
                foreach (DictionaryEntry entry in PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true))
                {
                    if (entry.Key is string name && entry.Value is Tensor t) tensors[name] = t.DetachFromDisposeScope();
                }
            }
            else
            {
                foreach (var (name, t) in Safetensors.LoadStateDict(stream, leaveOpen: true)) tensors[name] = t.DetachFromDisposeScope();
            }
            return tensors;
        }
        catch (Exception e) when (e is not (IOException or UnauthorizedAccessException))
        {
            var what = format == StateDictFormat.Pytorch ? "a torch.save state dict" : "a safetensors file";
            throw new InvalidDataException($"{path}: not a readable state dict ({what} was expected: {e.Message})", e);
        }
    }

    /// <summary>Writes <paramref name="tensors"/> (names in the given order) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, StateDictFormat format)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var scope = torch.NewDisposeScope();
        // Contiguous CPU copies: both writers store a tensor's bytes as they lie in memory.
        var plain = tensors.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.detach().cpu().contiguous().clone())).ToList();
        AtomicFile.Write(path, stream =>
        {
            if (format == StateDictFormat.Pytorch)
            {
                var table = new Hashtable();
                foreach (var (name, t) in plain) table[name] = t;
                PyTorchPickler.PickleStateDict(stream, table, leaveOpen: true);
            }
            else
            {
                Safetensors.SaveStateDict(stream, plain.ToDictionary(kv => kv.Key, kv => kv.Value), leaveOpen: true);
            }
        });
    }

    /// <summary>Disposes every tensor of a dictionary that <see cref="Read"/> returned.</summary>
    public static void Dispose(IReadOnlyDictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}
