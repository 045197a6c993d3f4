namespace StatFormer.Training;

/// <summary>Linear warm-up followed by cosine decay to a floor.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// Learning rate of the update with 0-based index <paramref name="step"/>. Warm-up gives
    /// LearningRate·(step+1)/WarmupSteps, so the first update already moves the weights; from
    /// WarmupSteps on, cosine decay from LearningRate reaches MinLearningRate at Steps.
    /// </summary>
    public static double At(long step, TrainOptions o)
    {
        if (step < o.WarmupSteps)
            return o.LearningRate * (step + 1) / o.WarmupSteps;
        var decaySteps = Math.Max(1, o.Steps - o.WarmupSteps);
        var progress = Math.Clamp((double)(step - o.WarmupSteps) / decaySteps, 0.0, 1.0);
        return o.EffectiveMinLearningRate + 0.5 * (o.LearningRate - o.EffectiveMinLearningRate) * (1 + Math.Cos(Math.PI * progress));
    }
}
