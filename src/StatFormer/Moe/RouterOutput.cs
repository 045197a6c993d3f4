using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>A router's scores for every token and expert.</summary>
/// <param name="Logits">[N,E] routing logits (with gradient).</param>
/// <param name="RoutingFeatures">[N,r] detached: the token representation the router scores in (for dispersion diagnostics).</param>
/// <param name="ScaledTokens">[N,d] the tokens the router rescaled before scoring them (the AC router's x ⊙ W, with gradient to x), or null when it scored x itself.</param>
public sealed record RouterOutput(Tensor Logits, Tensor RoutingFeatures, Tensor? ScaledTokens = null);
