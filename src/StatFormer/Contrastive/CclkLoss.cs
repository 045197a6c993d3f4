using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Contrastive;

/// <summary>
/// CCLK / Fair-CCLK (Tsai et al. 2022) in exactly the reference code's weac-infonce form (spec §2.3):
/// W = (K_Z + λI)⁻¹K_Z on the sensitive attribute (no gradient), W_ii := 0, W_ij &lt; 1e-6 := 0, and
/// loss_x = mean_i [ log(e^{S12_ii} + (n−1)·(diag(Kxy·W)_i + diag(Kxx·W)_i)) − S12_ii ], loss_y likewise with
/// (Kyx, Kyy), loss = (loss_x + loss_y)/2, where Kxy = exp(S12), Kxx = exp(S11) with a zero diagonal. The sums
/// diag(K·W)_i = Σ_j exp(S_ij + log W_ji) are taken in log space over the j with W_ji &gt; 0. Cost O(B³) (the solve).
/// </summary>
public sealed class CclkLoss : ContrastiveLoss
{
    /// <summary>Weights below this are zeroed, as in the reference code (this also drops all negative weights).</summary>
    private const double WeightFloor = 1e-6;

    public CclkLoss(ContrastiveLossOptions options, string name = "cclk") : base(name, options.Temperature)
    {
        options.Validate();
        Kernel = options.Kernel;
        Lambda = options.Lambda;
        KernelTemperature = options.KernelTemperature;
    }

    public CclkKernel Kernel { get; }
    public double Lambda { get; }
    public double KernelTemperature { get; }

    public override Tensor forward(Tensor view1, Tensor view2, SensitiveBatch sensitive)
    {
        using var scope = torch.NewDisposeScope();
        var b = CheckBatch(view1, view2, sensitive);
        var (u1, u2) = NormalizedViews(view1, view2);
        var s12 = u1.matmul(u2.t()) / Temperature;
        var s11 = u1.matmul(u1.t()) / Temperature;
        var s22 = u2.matmul(u2.t()) / Temperature;
        var positives = s12.diagonal();

        // diag(K·W)_i = Σ_j K_ij W_ji, so row i of the weights is column i of W.
        var weightsT = ConditionalWeights(sensitive.Features.to(u1.device).to_type(u1.dtype)).t();
        var allowed = weightsT.gt(0.0);                                       // W_ii = 0, so never j = i
        var logWeights = weightsT.clamp_min(float.Epsilon).log();
        var both = torch.cat(new[] { allowed, allowed }, 1);
        var logNegX = ContrastiveMath.MaskedLogSumExp(torch.cat(new[] { s12 + logWeights, s11 + logWeights }, 1), both, 1);
        var logNegY = ContrastiveMath.MaskedLogSumExp(torch.cat(new[] { s12.t() + logWeights, s22 + logWeights }, 1), both, 1);
        var lossX = ContrastiveMath.NegativeLogRatio(positives, logNegX, b - 1).mean();
        var lossY = ContrastiveMath.NegativeLogRatio(positives, logNegY, b - 1).mean();
        return ((lossX + lossY) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>W = (K_Z + λI)⁻¹K_Z with W_ii = 0 and W &lt; 1e-6 set to 0 (no gradient; in the views' dtype, float32 like the reference code).</summary>
    internal Tensor ConditionalWeights(Tensor z)
    {
        using var noGrad = torch.no_grad();
        var b = z.shape[0];
        var gram = KernelMatrix(z);
        var identity = torch.eye(b, dtype: gram.dtype, device: gram.device);
        var weights = torch.linalg.solve(gram + Lambda * identity, gram);
        weights = weights.masked_fill(identity.to_type(ScalarType.Bool), 0.0);
        return weights.masked_fill(weights.lt(WeightFloor), 0.0);
    }

    /// <summary>K_Z[i,j] = k(z_i, z_j) with the diagonal forced to 1, as in the reference code.</summary>
    internal Tensor KernelMatrix(Tensor z)
    {
        var t = KernelTemperature;
        var dot = z.matmul(z.t());
        Tensor SquaredDistances()
        {
            var norms = z.square().sum(1);
            return (norms.unsqueeze(1) + norms.unsqueeze(0) - 2 * dot).clamp_min(0.0);
        }
        var kernel = Kernel switch
        {
            CclkKernel.Cosine => nn.functional.normalize(z, p: 2, dim: 1).matmul(nn.functional.normalize(z, p: 2, dim: 1).t()),
            CclkKernel.Rbf => (-SquaredDistances() / t).exp(),
            CclkKernel.Linear => dot / t,
            CclkKernel.Polynomial => dot.pow(3) / t,
            CclkKernel.Laplacian => (-SquaredDistances().sqrt() / t).exp(),
            _ => throw new ArgumentException($"unknown kernel {Kernel}", nameof(ContrastiveLossOptions.Kernel)),
        };
        return kernel.masked_fill(torch.eye(z.shape[0], dtype: ScalarType.Bool, device: z.device), 1.0);
    }
}
