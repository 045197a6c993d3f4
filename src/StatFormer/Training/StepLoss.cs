using static TorchSharp.torch;

namespace StatFormer.Training;

/// <summary>
/// The objective of one training step, computed by the caller's step function with the model in train mode.
/// </summary>
/// <param name="Loss">The main loss (logged as "loss").</param>
/// <param name="AuxiliaryLoss">An already-weighted extra term added for the gradient and logged as "aux_loss"; null if none.</param>
/// <param name="Items">What the step consumed (tokens for a language model, samples for contrastive learning), for throughput.</param>
public sealed record StepLoss(Tensor Loss, Tensor? AuxiliaryLoss, long Items);
