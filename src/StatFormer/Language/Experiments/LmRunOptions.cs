using StatFormer.Attention;
using StatFormer.Language.Data;
using StatFormer.Language.Robustness;
using StatFormer.Moe;

namespace StatFormer.Language.Experiments;

/// <summary>Everything one language-model run needs: data, model, optimisation, evaluation and attack settings.</summary>
public sealed record LmRunOptions
{
    /// <summary>A text file, a WikiText folder (wiki.{train,valid,test}.tokens) or "synthetic".</summary>
    public string Data { get; init; } = LmDataset.Synthetic;
    public string Tokenizer { get; init; } = "word";
    public int MinCount { get; init; } = 1;
    public int? MaxVocab { get; init; }
    /// <summary>Seeds the synthetic corpus; the same for every model of a comparison.</summary>
    public int DataSeed { get; init; }

    public AttentionKind Attention { get; init; } = AttentionKind.Softmax;
    public EllipticalEstimator Estimator { get; init; } = EllipticalEstimator.Causal;
    public bool EllipticalUnscaled { get; init; }
    public int Layers { get; init; } = 4;
    public int DModel { get; init; } = 128;
    public int Heads { get; init; } = 4;
    public int SeqLen { get; init; } = 128;
    public double Dropout { get; init; } = 0.1;

    /// <summary>Mixture-of-Experts router for the MoE layers; None = dense feed-forward layers.</summary>
    public MoeKind Moe { get; init; } = MoeKind.None;
    public int Experts { get; init; } = 8;
    public int TopK { get; init; } = 2;
    /// <summary>1: MoE in every block (Switch); 2: every other block (GLaM).</summary>
    public int MoeEvery { get; init; } = 1;
    public double BalanceWeight { get; init; } = 0.01;
    /// <summary>0: no capacity limit (no token dropped).</summary>
    public double CapacityFactor { get; init; }
    /// <summary>The first MoE layers that use the base router before AC layers start.</summary>
    public int AcBaseLayers { get; init; } = 1;
    public bool AcMixTopK { get; init; }
    public AcEstimator AcEstimator { get; init; } = AcEstimator.Running;

    public int BatchSize { get; init; } = 16;
    public int Steps { get; init; } = 1000;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.1;
    public double GradClip { get; init; } = 1.0;
    public int EvalEvery { get; init; } = 100;
    public int? Patience { get; init; }
    public int Seed { get; init; }

    /// <summary>Validation tokens used by the periodic evaluation during training (0: all).</summary>
    public int ValidTokens { get; init; } = 32_768;
    /// <summary>Tokens of valid/test used by the final evaluation (0: all).</summary>
    public int EvalTokens { get; init; }
    /// <summary>Sliding-window stride for the final evaluation; null: non-overlapping windows.</summary>
    public int? Stride { get; init; }

    /// <summary>Word-swap rates applied to the test text at evaluation (never to training data).</summary>
    public IReadOnlyList<double> AttackRates { get; init; } = new[] { 0.015, 0.05, 0.10 };
    public WordSwapMode AttackMode { get; init; } = WordSwapMode.OutOfVocabulary;
    /// <summary>Swap counts per line (the paper) or per blank-line separated paragraph.</summary>
    public WordSwapUnit AttackUnit { get; init; } = WordSwapUnit.Line;
    /// <summary>Seeds the corruption draw; the same for every model of a comparison.</summary>
    public int AttackSeed { get; init; }

    public string OutDir { get; init; } = "runs/lm";
    /// <summary>Continue the run in <see cref="OutDir"/> from its checkpoint.</summary>
    public bool Resume { get; init; }
    /// <summary>Replace the run in <see cref="OutDir"/>: its files are deleted before training starts.</summary>
    public bool Overwrite { get; init; }
}
