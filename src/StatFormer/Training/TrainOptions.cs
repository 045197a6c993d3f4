namespace StatFormer.Training;

/// <summary>
/// Hyper-parameters of one training run. Steps count optimizer updates; evaluation, logging and
/// checkpointing intervals are in the same unit.
/// </summary>
public sealed record TrainOptions
{
    public int Steps { get; init; } = 1000;
    /// <summary>Sequences per batch; the trainer takes whatever the batch function returns, the CLI builds it from this.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Tokens per sequence; as <see cref="BatchSize"/>, consumed by whoever builds the batch function.</summary>
    public int SeqLen { get; init; } = 128;
    /// <summary>Peak learning rate, reached at the end of warm-up.</summary>
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>Floor of the cosine decay, reached at <see cref="Steps"/>.</summary>
    public double MinLearningRate { get; init; } = 3e-5;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Decoupled (AdamW) weight decay, applied to matrices only (parameters with two or more dimensions).</summary>
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    /// <summary>Maximum global gradient norm; 0 or less disables clipping.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Evaluate every this many steps (and always at the end); 0 or less: only at the end.</summary>
    public int EvalEvery { get; init; } = 100;
    /// <summary>Number of evaluations without improvement of the validation loss before stopping; null: never stop early.</summary>
    public int? EarlyStoppingPatience { get; init; }
    /// <summary>Extra checkpoint interval in steps; 0: checkpoints only at evaluations and at the end.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Seeds the torch generator at the start of a fresh run (dropout); model initialisation is seeded by whoever builds the model.</summary>
    public int Seed { get; init; }
    public int LogEvery { get; init; } = 10;

    /// <summary>Throws <see cref="UserInputException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new UserInputException(message);
        }
        Require(Steps >= 1, $"training option Steps must be at least 1 (got {Steps})");
        Require(BatchSize >= 1, $"training option BatchSize must be at least 1 (got {BatchSize})");
        Require(SeqLen >= 1, $"training option SeqLen must be at least 1 (got {SeqLen})");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"training option LearningRate must be positive (got {LearningRate})");
        Require(MinLearningRate >= 0 && MinLearningRate <= LearningRate, $"training option MinLearningRate must be between 0 and LearningRate (got {MinLearningRate})");
        Require(WarmupSteps >= 0, $"training option WarmupSteps must not be negative (got {WarmupSteps})");
        Require(WeightDecay >= 0, $"training option WeightDecay must not be negative (got {WeightDecay})");
        Require(Beta1 >= 0 && Beta1 < 1, $"training option Beta1 must be in [0, 1) (got {Beta1})");
        Require(Beta2 >= 0 && Beta2 < 1, $"training option Beta2 must be in [0, 1) (got {Beta2})");
        Require(EarlyStoppingPatience is null or >= 1, $"training option EarlyStoppingPatience must be at least 1 (got {EarlyStoppingPatience})");
        Require(CheckpointEvery >= 0, $"training option CheckpointEvery must not be negative (got {CheckpointEvery})");
        Require(LogEvery >= 1, $"training option LogEvery must be at least 1 (got {LogEvery})");
    }
}
