namespace StatFormer.Contrastive;

/// <summary>
/// What FARE's attention over z is doing (spec §7 Q8), averaged over the anchors with a non-empty support S_i.
/// </summary>
/// <param name="MeanEntropy">Mean row entropy −Σ_j P_ij log P_ij of the attention (nats).</param>
/// <param name="UniformEntropy">Mean log|S_i|: the entropy of uniform attention over the same support (the maximum).</param>
/// <param name="AttendedDistance">Mean over i of Σ_j P_ij‖z_i − z_j‖ (L2 distance of the standardised z as given).</param>
/// <param name="UniformDistance">Mean over i of the unweighted mean ‖z_i − z_j‖ over S_i.</param>
/// <param name="DistanceRatio">AttendedDistance / UniformDistance: &lt; 1 means the attention prefers negatives with similar z,
/// as FARE intends; &gt; 1 means training has turned it toward dissimilar z. NaN when all distances are 0.</param>
/// <param name="MeanSupportSize">Mean |S_i| over all anchors (B − 1 for FARE without the positive).</param>
/// <param name="EmptySupportRows">Anchors with no negative at all (their FARE_i is 0).</param>
public sealed record FareAttentionDiagnostics(
    double MeanEntropy,
    double UniformEntropy,
    double AttendedDistance,
    double UniformDistance,
    double DistanceRatio,
    double MeanSupportSize,
    int EmptySupportRows);
