namespace StatFormer.Interop;

/// <summary>The two files a state dict (parameter name → tensor) travels in between StatFormer, PyTorch and Hugging Face.</summary>
public enum StateDictFormat
{
    /// <summary>Hugging Face's safetensors: an 8-byte header length, a JSON index, then the raw little-endian tensors.</summary>
    Safetensors,

    /// <summary>What <c>torch.save(model.state_dict(), path)</c> writes: a zip archive holding a pickle and one entry per storage.</summary>
    Pytorch,
}
