using static TorchSharp.torch;

namespace StatFormer.Training;

/// <summary>
/// A language model whose training objective adds an auxiliary term to the cross-entropy, such as the
/// load-balancing loss of Mixture-of-Experts layers. The <see cref="Trainer"/> adds it to the loss it
/// back-propagates and logs it separately, so the reported loss stays comparable with dense models.
/// </summary>
public interface IAuxiliaryLossModel
{
    /// <summary>One forward pass: logits [B,T,V] and the already-weighted auxiliary loss (a scalar), or null when this configuration has none.</summary>
    (Tensor Logits, Tensor? AuxiliaryLoss) Run(Tensor inputs);
}
