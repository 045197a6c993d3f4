using StatFormer.Options;

namespace StatFormer.Training;

/// <summary>
/// Hyper-parameters of one training run. Steps count optimizer updates; evaluation, logging and
/// checkpointing intervals are in the same unit.
/// </summary>
public sealed record TrainOptions
{
    /// <summary>Optimizer steps. (Batches are whatever the batch function returns; their size is the caller's option.)</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Peak learning rate, reached at the end of warm-up.</summary>
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>Floor of the cosine decay, reached at <see cref="Steps"/>; null: a tenth of <see cref="LearningRate"/>.</summary>
    public double? MinLearningRate { get; init; } = 3e-5;
    /// <summary>The floor actually used: <see cref="MinLearningRate"/>, or a tenth of <see cref="LearningRate"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double EffectiveMinLearningRate => MinLearningRate ?? LearningRate / 10;
    /// <summary>Linear warm-up steps.</summary>
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Decoupled (AdamW) weight decay, applied to matrices only (parameters with two or more dimensions).</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>AdamW β₁.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β₂.</summary>
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
    /// <summary>Log a train record every this many steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <exception cref="ArgumentException">ParamName is the offending property.</exception>
    public void Validate()
    {
        OptionCheck.Require(Steps >= 1, nameof(Steps), $"must be at least 1 (got {Steps})");
        OptionCheck.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be positive (got {LearningRate})");
        OptionCheck.Require(EffectiveMinLearningRate >= 0 && EffectiveMinLearningRate <= LearningRate, nameof(MinLearningRate),
            $"must be between 0 and LearningRate (got {EffectiveMinLearningRate})");
        OptionCheck.Require(WarmupSteps >= 0, nameof(WarmupSteps), $"must not be negative (got {WarmupSteps})");
        OptionCheck.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"must not be negative (got {WeightDecay})");
        OptionCheck.Require(Beta1 is >= 0 and < 1, nameof(Beta1), $"must be in [0, 1) (got {Beta1})");
        OptionCheck.Require(Beta2 is >= 0 and < 1, nameof(Beta2), $"must be in [0, 1) (got {Beta2})");
        OptionCheck.Require(double.IsFinite(GradClip), nameof(GradClip), $"must be a finite number (0 or less: off) (got {GradClip})");
        OptionCheck.Require(EarlyStoppingPatience is null or >= 1, nameof(EarlyStoppingPatience), $"must be at least 1 (got {EarlyStoppingPatience})");
        OptionCheck.Require(CheckpointEvery >= 0, nameof(CheckpointEvery), $"must not be negative (got {CheckpointEvery})");
        OptionCheck.Require(LogEvery >= 1, nameof(LogEvery), $"must be at least 1 (got {LogEvery})");
    }
}
