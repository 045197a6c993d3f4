using static TorchSharp.torch;

namespace StatFormer.Language.Generation;

/// <summary>
/// The next-token logits of one growing token sequence: how <see cref="TextGenerator"/> runs the model. Implementations differ
/// only in cost (a full forward over the window per token, or a key/value cache), never in which tokens condition the prediction.
/// Returned logits belong to the caller's dispose scope.
/// </summary>
public interface ITokenDecoder : IDisposable
{
    /// <summary>"full-window" or "kv-cache", for reports.</summary>
    string Name { get; }

    /// <summary>Starts the sequence from <paramref name="prompt"/> (at most the model's context, at least one token); logits [V] of the token after it.</summary>
    Tensor Start(IReadOnlyList<int> prompt);

    /// <summary>Appends <paramref name="token"/>; logits [V] of the token after it.</summary>
    Tensor Append(int token);
}
