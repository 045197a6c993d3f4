namespace StatFormer.Language.Evaluation;

/// <summary>Language-model quality on a token stream: mean negative log-likelihood (nats per token) and its exponential.</summary>
/// <param name="MeanNll">Mean NLL in nats over the scored target tokens.</param>
/// <param name="Perplexity">exp(<paramref name="MeanNll"/>).</param>
/// <param name="TokensScored">Number of target tokens that entered the mean (N-1 for a stream of N tokens).</param>
public sealed record PerplexityResult(double MeanNll, double Perplexity, long TokensScored)
{
    /// <summary>Total negative log-likelihood of the scored targets in bits.</summary>
    public double TotalBits => MeanNll * TokensScored / Math.Log(2);
}
