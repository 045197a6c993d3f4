using StatFormer.Attention;
using StatFormer.Options;
using StatFormer.Training;
using StatFormer.Vision.Corruptions;
using StatFormer.Vision.Data;
using StatFormer.Vision.Models;
using StatFormer.Vision.Robustness;

namespace StatFormer.Vision.Experiments;

/// <summary>
/// Everything one image-classifier run needs, one record per concern: data, model, optimisation, label smoothing,
/// adversarial training, evaluation (attacks) and output. Each field is declared (with its default) and validated once,
/// in its record; <see cref="Validate"/> reports a bad value as an <see cref="ArgumentException"/> whose ParamName is its
/// path in this tree (e.g. <c>Model.Stack.Heads</c>).
/// </summary>
public sealed record VisionRunOptions
{
    /// <summary>The images (source, subsets, batch size, augmentation).</summary>
    public VisionDataOptions Data { get; init; } = new();

    /// <summary>The classifier; image shape and classes come from the data.</summary>
    public VisionModelOptions Model { get; init; } = new();

    /// <summary>Optimisation: AdamW (β₂ 0.999, decay 0.05 as in DeiT), warm-up then cosine to lr/10. No validation split: checkpoints every EvalEvery steps.</summary>
    public TrainOptions Train { get; init; } = new()
    {
        Steps = 500, LearningRate = 1e-3, MinLearningRate = null, WarmupSteps = 50, WeightDecay = 0.05, Beta2 = 0.999, EvalEvery = 100,
    };

    /// <summary>Label smoothing of the training cross-entropy (DeiT: 0.1).</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    /// <summary>Madry PGD adversarial training; off by default.</summary>
    public AdversarialTrainingOptions Adversarial { get; init; } = new();

    /// <summary>The final evaluation: clean accuracy, the attacks, diagnostics.</summary>
    public VisionEvalOptions Eval { get; init; } = new();

    /// <summary>The run folder.</summary>
    public RunOutputOptions Output { get; init; } = new() { OutDir = Path.Combine("runs", "vision") };

    /// <summary>A safetensors or torch.save state dict (e.g. from `statformer export`) loaded over the initial weights to fine-tune; names and shapes must fit the model. Null: fresh seeded weights (and not written, so older options read the same).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? InitFrom { get; init; }

    /// <exception cref="ArgumentException">ParamName is the path of the first offending property.</exception>
    public void Validate()
    {
        OptionCheck.Nested(nameof(Data), Data.Validate);
        OptionCheck.Nested(nameof(Model), Model.Validate);
        OptionCheck.Nested(nameof(Train), Train.Validate);
        OptionCheck.Require(LabelSmoothing is >= 0 and < 1, nameof(LabelSmoothing), $"must be in [0, 1) (got {LabelSmoothing})");
        OptionCheck.Nested(nameof(Adversarial), Adversarial.Validate);
        OptionCheck.Nested(nameof(Eval), Eval.Validate);
        OptionCheck.Nested(nameof(Output), Output.Validate);
        OptionCheck.Require(InitFrom is null || File.Exists(InitFrom), nameof(InitFrom), $"{InitFrom}: no such file");
    }
}

/// <summary>
/// Madry et al.'s PGD adversarial training: each step's batch is replaced by its L∞ PGD perturbation (random start,
/// <see cref="Steps"/> signed-gradient steps of <see cref="StepFraction"/>·ε, against the true labels, model in eval
/// mode), in pixel units; the loss is the model's on those images only.
/// </summary>
public sealed record AdversarialTrainingOptions
{
    /// <summary>The training ε in pixel units ([0, 1]); 0: off.</summary>
    public double Epsilon { get; init; }

    /// <summary>PGD steps per training batch.</summary>
    public int Steps { get; init; } = 7;

    /// <summary>Step size as a fraction of ε (Madry: 2.5/steps).</summary>
    public double StepFraction { get; init; } = 2.5 / 7;

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Enabled => Epsilon > 0;

    public void Validate()
    {
        OptionCheck.Require(double.IsFinite(Epsilon) && Epsilon is >= 0 and <= 1, nameof(Epsilon), $"must be in [0, 1] pixel units, 0 = off (got {Epsilon})");
        OptionCheck.Require(Steps >= 1, nameof(Steps), $"must be at least 1 (got {Steps})");
        OptionCheck.Require(double.IsFinite(StepFraction) && StepFraction > 0, nameof(StepFraction), $"must be positive (got {StepFraction})");
    }
}

/// <summary>What a run measures after training.</summary>
public sealed record VisionEvalOptions
{
    /// <summary>The attacks, ε sweep and their draws (the same seed for every model of a comparison).</summary>
    public AttackOptions Attack { get; init; } = new() { MaxImages = 500 };

    /// <summary>
    /// The elliptical estimator at evaluation and attack time; null: the one it was trained with. The authors attack
    /// mean-trained models with the median (docs/vision.md).
    /// </summary>
    public EllipticalEstimator? Estimator { get; init; }

    /// <summary>Test images (the first ones) for the per-layer diagnostics: elliptical metric and representation collapse.</summary>
    public int DiagnosticImages { get; init; } = 256;

    /// <summary>Images in the clean vs adversarial grid.</summary>
    public int ExampleImages { get; init; } = 8;

    /// <summary>Common corruptions (CIFAR-10-C / MNIST-C), calibration and OOD detection; off unless corruptions are named.</summary>
    public CorruptionOptions Corruption { get; init; } = new();

    public void Validate()
    {
        OptionCheck.Nested(nameof(Attack), Attack.Validate);
        OptionCheck.Require(Estimator is null || Enum.IsDefined(Estimator.Value), nameof(Estimator), "unknown estimator");
        OptionCheck.Require(Estimator != EllipticalEstimator.Causal, nameof(Estimator), "an image model attends non-causally: use sequence (mean) or median");
        OptionCheck.Require(DiagnosticImages >= 1, nameof(DiagnosticImages), $"must be at least 1 (got {DiagnosticImages})");
        OptionCheck.Require(ExampleImages >= 1, nameof(ExampleImages), $"must be at least 1 (got {ExampleImages})");
        OptionCheck.Nested(nameof(Corruption), Corruption.Validate);
    }
}
