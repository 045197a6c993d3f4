namespace StatFormer.Cli;

/// <summary>
/// One command-line flag and the options-tree property it sets. The flag's value type, default and
/// accepted values come from the property (see <see cref="OptionTree{T}"/>); the description here is the
/// help text and agrees with the property's doc comment.
/// </summary>
/// <param name="Path">The property's path in the run options tree, e.g. <c>Model.Heads</c>.</param>
/// <param name="Names">The flag and its aliases, e.g. <c>--heads</c>.</param>
/// <param name="Inverted">A switch that sets the (boolean) property to false, e.g. <c>--no-normalize-sensitive</c>.</param>
/// <param name="ZeroMeansNull">For a nullable number: 0 on the command line stands for null ("all", "off").</param>
/// <param name="Choices">For a string property: the accepted values (enums list their names themselves).</param>
public sealed record OptionFlag(string Path, string[] Names, string Description, bool Inverted = false, bool ZeroMeansNull = false, string[]? Choices = null)
{
    public OptionFlag(string path, string name, string description) : this(path, [name], description) { }

    public string Name => Names[0];
}

/// <summary>
/// The one table of flag ↔ property path ↔ description for every run command. Commands build their
/// options from it (<see cref="OptionTree{T}"/>), read values into the options tree through it, and turn
/// an <see cref="ArgumentException"/>'s ParamName (a property path) back into the flag (<see cref="FlagFor"/>).
/// </summary>
public static class OptionFlags
{
    /// <summary>Properties of <see cref="Language.Experiments.LmRunOptions"/> (`lm train`, `compare`, `demo`, part of `lm eval`).</summary>
    public static IReadOnlyList<OptionFlag> Lm { get; } =
    [
        new("Data.Source", "--data", "A text file (split 90/5/5 by lines), a corpus folder (wiki.{train,valid,test}.tokens, {train,valid,test}.txt, or one file each named *train*, *valid*/*val*/*dev*, *test*) or 'synthetic' (embedded generator)."),
        new("Data.TrainFile", "--train-file", "The training text, given explicitly (with --valid-file and --test-file; --data is then ignored)."),
        new("Data.ValidFile", "--valid-file", "The validation text, given explicitly."),
        new("Data.TestFile", "--test-file", "The test text, given explicitly."),
        new("Data.Tokenizer", ["--tokenizer"], "Tokenization.", Choices: ["char", "word", "gpt2"]),
        new("Data.MinCount", "--min-count", "Word tokenizer: minimum count of a word to enter the vocabulary."),
        new("Data.MaxVocab", "--max-vocab", "Word tokenizer: cap on the vocabulary size (most frequent words kept)."),
        new("Data.DataSeed", "--data-seed", "Seed of the synthetic corpus generator."),
        new("Data.BatchSize", "--batch-size", "Sequences per step (and per evaluation batch)."),

        new("Model.Stack.Attention", "--attention", "Self-attention."),
        new("Model.Stack.Moe.Router", "--moe", "Feed-forward layers: dense (none) or Mixture of Experts with a linear (smoe), cosine (xmoe) or Adaptive Clustering router over either (ac-smoe, ac-xmoe)."),
        new("Model.Stack.Layers", "--layers", "Transformer blocks."),
        new("Model.Stack.DModel", "--d-model", "Model width."),
        new("Model.Stack.Heads", "--heads", "Attention heads (must divide --d-model)."),
        new("Model.SeqLen", "--seq-len", "Context length in tokens."),
        new("Model.Stack.Dropout", "--dropout", "Dropout probability."),
        new("Model.Stack.DropPath", "--drop-path", "Stochastic depth: probability of dropping a block's residual branches for a whole sample in training, rising linearly from 0 at the first block to this at the last (0: off)."),
        new("Model.Stack.FfnMultiplier", "--ffn-multiplier", "Hidden width of the dense feed-forward block as a multiple of --d-model."),
        new("Model.Stack.Estimator", "--estimator", "Elliptical metric estimator: causal (prefix mean, no look-ahead; the default of a language model) or sequence (authors' whole-sequence mean; leaks future tokens)."),
        new("Model.Stack.EllipticalUnscaled", "--unscaled", "Drop 1/sqrt(D) in elliptical layers, as the authors' LM code does."),
        new("Model.Stack.EllipticalLayers", "--elliptical-layers", "Comma-separated layers that use the elliptical metric (default: all but layer 0, which has no previous values)."),
        new("Model.Stack.Activation", "--activation", "Dense feed-forward nonlinearity: gelu (exact) or gelu-tanh (GPT-2's tanh approximation)."),
        new("Model.Stack.Moe.Layer.Experts", "--experts", "MoE: experts per MoE layer."),
        new("Model.Stack.Moe.Layer.TopK", "--top-k", "MoE: experts per token (1 = Switch-style, 2 = default); gate weights are the softmax over the selected logits."),
        new("Model.Stack.Moe.Every", "--moe-every", "MoE: 1 = an MoE layer in every block (Switch), 2 = every other block with dense FFNs between (GLaM)."),
        new("Model.Stack.Moe.FirstMoeLayer", "--first-moe-layer", "MoE: the first block with an MoE layer; the next ones follow every --moe-every blocks."),
        new("Model.Stack.Moe.BalanceWeight", "--balance-weight", "MoE: weight of the Switch load-balancing loss added to the training loss (summed over MoE layers)."),
        new("Model.Stack.Moe.Layer.CapacityFactor", "--capacity-factor", "MoE: expert capacity as a multiple of the mean load; assignments beyond it are dropped (the token keeps its residual). 0 = unlimited."),
        new("Model.Stack.Moe.Layer.Dropout", "--moe-dropout", "MoE: dropout on an MoE layer's output (default: --dropout)."),
        new("Model.Stack.Moe.Layer.ExpertHidden", "--expert-hidden", "MoE: hidden width of each expert (default: --ffn-multiplier × --d-model / --top-k, so a token's active FFN parameters match the dense model's)."),
        new("Model.Stack.Moe.Layer.XmoeDim", "--xmoe-dim", "XMoE: dimension of the routing space the cosine router scores in."),
        new("Model.Stack.Moe.Layer.XmoeTemperature", "--xmoe-temperature", "XMoE: initial (learned) or fixed temperature dividing the cosine scores."),
        new("Model.Stack.Moe.Layer.XmoeLearnableTemperature", ["--xmoe-fixed-temperature"], "XMoE: keep the temperature fixed at --xmoe-temperature instead of learning it.", Inverted: true),
        new("Model.Stack.Moe.AcBaseLayers", "--ac-base-layers", "AC routers: how many of the first MoE layers use the base router (the AC router needs a previous MoE layer's routing)."),
        new("Model.Stack.Moe.Layer.AcMixTopK", "--ac-mix-topk", "AC routers: mix the previous top-k clusters' feature weights by their gate scores instead of using the top-1 cluster's."),
        new("Model.Stack.Moe.Layer.AcScaledInput", "--ac-scaled-input", "AC routers: what the token scaled by its cluster's feature weights feeds: the router only (router, the authors' LM code) or the router and the experts (router-and-experts, their Swin and Soft MoE code)."),
        new("Model.Stack.Moe.Layer.AcEstimator", "--ac-estimator", "AC routers: where the per-cluster spreads come from: running (statistics of past training batches, frozen at evaluation; causal) or batch (the authors' rule: the current batch's statistics; leaks future tokens, including the next evaluation window)."),
        new("Model.Stack.Moe.Layer.AcEpsilon", "--ac-epsilon", "AC routers: ε in the feature weights 1/(MAD + ε)."),
        new("Model.Stack.Moe.Layer.AcClipMultiple", "--ac-clip-multiple", "AC routers: clip the feature weights at this multiple of their mean (≥ 1)."),
        new("Model.Stack.Moe.Layer.AcNormalisation", "--ac-normalise", "AC routers: divide the clipped feature weights by their mean per feature (per-feature, the authors' LM code: only the clusters' relative tightness counts) or over every cluster and feature (global, their image code)."),
        new("Model.Stack.Moe.Layer.AcMomentum", "--ac-momentum", "AC routers: weight of the newest batch in the running cluster statistics (≈ 1/momentum batches remembered)."),

        new("Init.InitFrom", "--init-from", "Start from this state dict (safetensors or torch.save; e.g. from `statformer export`) instead of fresh weights: names and shapes must fit the model."),
        new("Init.HfCheckpoint", "--hf-checkpoint", "Start from a Hugging Face GPT-2 checkpoint folder (config.json + model.safetensors or pytorch_model.bin): the model takes its shape and weights; --attention, --dropout and --seq-len still apply (needs --tokenizer gpt2)."),

        new("Train.Steps", "--steps", "Optimizer steps."),
        new("Train.LearningRate", "--lr", "Peak learning rate (AdamW; linear warm-up then cosine decay to --min-lr)."),
        new("Train.MinLearningRate", "--min-lr", "Floor of the cosine decay (default: --lr / 10)."),
        new("Train.WarmupSteps", "--warmup", "Warm-up steps."),
        new("Train.WeightDecay", "--weight-decay", "AdamW weight decay (matrices only)."),
        new("Train.Beta1", "--beta1", "AdamW β₁."),
        new("Train.Beta2", "--beta2", "AdamW β₂."),
        new("Train.GradClip", "--grad-clip", "Max global gradient norm (0: off)."),
        new("Train.EvalEvery", "--eval-every", "Validate every N steps."),
        new("Train.EarlyStoppingPatience", "--patience", "Early stopping: evaluations without improvement before stopping (default: off)."),
        new("Train.CheckpointEvery", "--checkpoint-every", "Extra checkpoint every N steps (0: only at validations and at the end)."),
        new("Train.Seed", "--seed", "Seed of initialisation, batches and dropout."),

        new("Eval.ValidTokens", "--valid-tokens", "Validation tokens used during training (0: all)."),
        new("Eval.EvalTokens", "--eval-tokens", "Valid/test tokens used by the final evaluation (0: all)."),
        new("Eval.Stride", "--stride", "Sliding-window evaluation stride (default: non-overlapping windows)."),

        new("Attack.Rates", "--attack-rates", "Comma-separated word-swap rates applied to the test text."),
        new("Attack.Mode", "--attack-mode", "oov: replace by the out-of-vocabulary token AAA (paper protocol); random: by a random training word."),
        new("Attack.Unit", "--attack-unit", "Count swaps per line (paper protocol) or per blank-line separated paragraph (for texts of very short lines, where one swap per line dominates every rate)."),
        new("Attack.Seed", "--attack-seed", "Seed of the word-swap draw (shared by every model)."),

        new("Output.OutDir", "--out", "Output folder."),
        new("Output.Resume", "--resume", "Continue from the checkpoint in --out (finished runs are reused)."),
        new("Output.Overwrite", "--overwrite", "Replace the run already in --out: its files are deleted first. Without --resume or --overwrite, an --out that holds a run is refused."),
    ];

    /// <summary>Properties of <see cref="Language.Experiments.LmComparisonOptions"/> besides its run tree (<c>Run.…</c> paths are <see cref="Lm"/>'s).</summary>
    public static IReadOnlyList<OptionFlag> Comparison { get; } =
    [
        new("Seeds", "--seeds", "Number of seeds (0, 1, …, N−1)."),
        new("Variants", ["--variants", "--attention"], "Comma-separated model variants: softmax, elliptical, an MoE router (smoe, xmoe, ac-smoe, ac-xmoe) or both joined by '+' (elliptical+ac-smoe)."),
        new("FairEpochs", "--fair-epochs", "`demo`: epochs of the fair contrastive part (0 skips it)."),
        new("VisionSteps", "--vision-steps", "`demo`: training steps of the vision part, softmax vs elliptical ViTs on synthetic images (0 skips it)."),
        new("ProbeSeeds", "--probe-seeds", "`demo`: seeds of the three mechanism probes that run first (0 skips them)."),
        new("ProbeSteps", "--probe-steps", "`demo`: training steps of every probe model (0: each probe's own demo setting)."),
        new("Shard", "--shard", "I/N (0 ≤ I < N): run only this machine's share of the variant × seed runs into the shared --out (e.g. a Slurm job array); without --shard, a folder that shards filled is aggregated once every run has finished, and the missing runs are named."),
        new("TargetValidPpl", "--target-ppl", "Convergence: report the steps until the validation perplexity first reaches this (default: the worst run's best, which every run reaches)."),
    ];

    /// <summary>Properties of <see cref="Fairness.Experiments.FairRunOptions"/> (`fair train`, `fair compare`).</summary>
    public static IReadOnlyList<OptionFlag> Fair { get; } =
    [
        new("Data.Dataset", ["--data"], "Dataset: ColorMNIST (images, z = background RGB), UCI Adult or COMPAS (tabular, z = --sensitive), or the embedded synthetic data (no files).",
            Choices: [.. Fairness.Experiments.FairRunOptions.DataNames]),
        new("Data.DataDir", "--data-dir", "Folder with the dataset subfolders mnist/, adult/, compas/."),
        new("Data.Sensitive", "--sensitive", "Adult/COMPAS: the protected attribute(s) z: sex, race or sex,race."),
        new("Data.DataSeed", "--data-seed", "Seed of the data: colours, COMPAS split, synthetic generator, subsets."),
        new("Data.TrainLimit", "--train-limit", "Train on a data-seeded subset of this many train samples (default: all)."),
        new("Data.TestLimit", "--test-limit", "Evaluate on a data-seeded subset of this many test samples (default: all)."),
        new("Data.CorruptionRate", "--corruption", "Tabular views: SCARF corruption rate (share of features replaced per view)."),

        new("Model.Method", "--method", "Contrastive method."),
        new("Model.MlpHidden", "--mlp-hidden", "Tabular encoder (MLP) hidden width."),
        new("Model.MlpOutput", "--mlp-output", "Tabular encoder (MLP) representation width (LeNet's is 84)."),
        new("Model.ProjectionDim", "--projection-dim", "Projection head output width."),

        new("Loss.Temperature", "--temperature", "τ of the contrastive score cos/τ."),
        new("Loss.Kernel", ["--kernel", "--cclk-kernel"], "CCLK kernel on z."),
        new("Loss.Lambda", ["--lambda", "--cclk-lambda"], "CCLK λ of (K_Z + λI)⁻¹K_Z."),
        new("Loss.KernelTemperature", ["--kernel-temperature", "--cclk-kernel-temperature"], "CCLK temp_z of the RBF, linear, polynomial and Laplacian kernels."),
        new("Loss.AttentionTemperature", "--attention-temperature", "FARE ρ dividing the attention logits (0: √d_k)."),
        new("Loss.AttentionDim", "--attention-dim", "FARE d_k of W_Q, W_K (0: d_z, identity start)."),
        new("Loss.IncludePositive", "--include-positive", "FARE: let the attention include j = i (Eq. 12 literally)."),
        new("Loss.NegativeScale", "--negative-scale", "FARE c_neg: batch (B − 1, CCLK-consistent) or one (literal Eq. 13)."),
        new("Loss.NormalizeSensitive", ["--no-normalize-sensitive"], "FARE: do not L2-normalise z before W_Q/W_K and LSH.", Inverted: true),
        new("Loss.SameViewNegatives", "--same-view-negatives", "FARE: add attention-weighted same-view negatives (CCLK code's Kxx term)."),
        new("Loss.Buckets", "--buckets", "SparseFARE LSH buckets (even, ≥ 2)."),
        new("Loss.Variant", "--sparse-variant", "SparseFARE support: adjacent (own + previous chunk of the bucket-sorted batch, Reformer) or within (same bucket)."),
        new("Loss.ChunkSize", "--chunk-size", "SparseFARE chunk length."),
        new("Loss.Implementation", ["--sparse-impl", "--sparse-implementation"], "SparseFARE implementation: sort (sort-and-chunk) or dense (masked B×B reference)."),

        new("Train.Epochs", "--epochs", "Training epochs (the CCLK recipe: 1000)."),
        new("Train.BatchSize", "--batch-size", "Samples per step (the last incomplete batch of an epoch is dropped)."),
        new("Train.LearningRate", "--lr", "Peak learning rate (AdamW; linear warm-up, cosine decay to 0)."),
        new("Train.WeightDecay", "--weight-decay", "AdamW decoupled weight decay (matrices only)."),
        new("Train.WarmupEpochs", "--warmup-epochs", "Warm-up epochs (capped at 10% of the run)."),
        new("Train.GradClip", "--grad-clip", "Max global gradient norm (0: no clipping, the recipe's setting)."),
        new("Train.Seed", "--seed", "Seed of initialisation, batch order, augmentations and LSH."),

        new("Eval.ProbeMaxIterations", ["--probe-max-iterations", "--probe-steps"], "Iteration cap of the L-BFGS classifier probes (they stop at convergence; hitting the cap is reported)."),
        new("Eval.ProbeTolerance", "--probe-tolerance", "Probe convergence criterion: final gradient norm ≤ this × the gradient norm at the zero start."),
        new("Eval.ProbeTrainLimit", ["--probe-train-limit"], "Fit the probes on a data-seeded subset of this many train samples (default and 0: all).", ZeroMeansNull: true),
        new("Eval.ProbeL2", "--probe-l2", "L2 penalty of the probes (the CCLK evaluation's 1e-6)."),

        new("Output.OutDir", "--out", "Output folder."),
        new("Output.Resume", "--resume", "Continue from the checkpoint in --out (finished runs are reused)."),
        new("Output.Overwrite", "--overwrite", "Replace the run already in --out: its files are deleted first. Without --resume or --overwrite, an --out that holds a run is refused."),
    ];

    /// <summary>Properties of <see cref="Fairness.Experiments.FairComparisonOptions"/> besides its run (<c>Run.…</c> paths are <see cref="Fair"/>'s).</summary>
    public static IReadOnlyList<OptionFlag> FairComparison { get; } =
    [
        new("Seeds", "--seeds", "Number of seeds (0, 1, …, N−1)."),
        new("Methods", "--methods", "Comma-separated methods to compare."),
        new("Shard", "--shard", "I/N (0 ≤ I < N): run only this machine's share of the method × seed runs into the shared --out; without --shard, a folder that shards filled is aggregated once every run has finished, and the missing runs are named."),
    ];

    /// <summary>Properties of <see cref="Vision.Experiments.VisionRunOptions"/> (`vision train`, `vision compare`, part of `vision eval`).</summary>
    public static IReadOnlyList<OptionFlag> Vision { get; } =
    [
        new("Data.Source", "--data", "Images: the embedded synthetic generator, an MNIST IDX folder, or an image folder (root/<class>/*.png|jpg, with or without train/ and test/)."),
        new("Data.Path", "--data-path", "The MNIST folder or the image-folder root (--data mnist or image-folder)."),
        new("Data.CacheDir", "--cache-dir", "Where decoded image folders are cached (default: $STATFORMER_CACHE, else ~/.cache/statformer/images)."),
        new("Data.TestFraction", "--test-fraction", "Image folder without train/ and test/: the share of each class held out for testing."),
        new("Data.SplitSeed", "--split-seed", "Seed of the one-folder split and of the --max-train/--max-test subsets."),
        new("Data.MaxTrain", ["--max-train"], "Train on a seeded, class-stratified subset of this many images (0: all).", ZeroMeansNull: true),
        new("Data.MaxTest", ["--max-test"], "Test on a seeded, class-stratified subset of this many images (0: all).", ZeroMeansNull: true),
        new("Data.BatchSize", "--batch-size", "Images per step (and per evaluation batch)."),
        new("Data.Channels", ["--channels"], "Image folder: 1 (grey) or 3 (RGB) channels (0: follow the first image).", ZeroMeansNull: true),
        new("Data.Augment.RandomCropPadding", "--crop-padding", "Augmentation: zero-pad by this many pixels, then crop back at a random offset (0: off; CIFAR recipe: 4)."),
        new("Data.Augment.HorizontalFlip", "--flip", "Augmentation: mirror each image left-right with probability 1/2 (not for digits)."),
        new("Data.Augment.RandAugment.Ops", "--randaugment-ops", "Augmentation: RandAugment with this many operations per image (setting any --randaugment-* flag turns it on)."),
        new("Data.Augment.RandAugment.Magnitude", "--randaugment-magnitude", "RandAugment magnitude bin."),
        new("Data.Augment.RandAugment.MagnitudeBins", "--randaugment-bins", "RandAugment magnitude bins."),
        new("Data.Synthetic.Classes", "--synthetic-classes", "Synthetic images: classes."),
        new("Data.Synthetic.Channels", "--synthetic-channels", "Synthetic images: channels (1 or 3)."),
        new("Data.Synthetic.Size", "--synthetic-size", "Synthetic images: height and width in pixels (a multiple of --synthetic-patch)."),
        new("Data.Synthetic.PatchSize", "--synthetic-patch", "Synthetic images: side of the generator's patches."),
        new("Data.Synthetic.TrainCount", "--synthetic-train", "Synthetic images: training images."),
        new("Data.Synthetic.TestCount", "--synthetic-test", "Synthetic images: test images."),
        new("Data.Synthetic.InformativeFeatures", "--synthetic-informative", "Synthetic images: patches that carry the class."),
        new("Data.Synthetic.SignalStrength", "--synthetic-signal", "Synthetic images: pixel offset of an informative patch."),
        new("Data.Synthetic.NuisanceStrength", "--synthetic-nuisance", "Synthetic images: standard deviation of a nuisance patch's offset."),
        new("Data.Synthetic.NoiseStd", "--synthetic-noise", "Synthetic images: standard deviation of the per-pixel noise."),
        new("Data.Synthetic.Seed", "--data-seed", "Seed of the synthetic images (layout, class codes, both splits)."),

        new("Model.Architecture", "--arch", "The classifier: a ViT (vit) or TorchVision's ResNet-18 (resnet18, the convolutional reference)."),
        new("Model.PatchSize", "--patch-size", "ViT: side of the square patches (must divide the image size)."),
        new("Model.Pooling", "--pooling", "ViT: classify the class token (cls) or the mean of the patch tokens (mean)."),
        new("Model.Stem", "--stem", "ResNet: small (3x3 conv, no max-pool; for 28-32 px images) or TorchVision's imagenet stem (7x7/2 conv + max-pool, 3 channels)."),
        new("Model.Normalization", "--normalization", "Per-channel normalisation inside the model (attacks work in pixels): auto (MNIST statistics for 1 channel, CIFAR-10's for 3), none, mnist, cifar10."),
        new("Model.Stack.Attention", "--attention", "ViT self-attention: softmax or elliptical (layers 1.. by default)."),
        new("Model.Stack.Layers", "--layers", "Transformer blocks."),
        new("Model.Stack.DModel", "--d-model", "Model width."),
        new("Model.Stack.Heads", "--heads", "Attention heads (must divide --d-model)."),
        new("Model.Stack.Dropout", "--dropout", "Dropout probability."),
        new("Model.Stack.DropPath", "--drop-path", "Stochastic depth: probability of dropping a block's residual branches for a whole sample in training, rising linearly from 0 at the first block to this at the last (0: off)."),
        new("Model.Stack.FfnMultiplier", "--ffn-multiplier", "Hidden width of the feed-forward block as a multiple of --d-model."),
        new("Model.Stack.Estimator", "--estimator", "Elliptical metric estimator in training: sequence (mean over tokens, the authors' training choice) or median."),
        new("Model.Stack.EllipticalUnscaled", "--unscaled", "Drop 1/sqrt(D) in elliptical layers, as the authors' LM code does."),
        new("Model.Stack.EllipticalLayers", "--elliptical-layers", "Comma-separated layers that use the elliptical metric (default: all but layer 0, which has no previous values)."),
        new("Model.Stack.Moe.Router", "--moe", "ViT feed-forward layers: dense (none), Mixture of Experts with a linear (smoe), cosine (xmoe) or Adaptive Clustering router over either (ac-smoe, ac-xmoe; the balance loss joins the classification loss), or Soft MoE (soft-moe: every slot a weighted average of the image's tokens, nothing dropped) and AC-Soft MoE (ac-soft-moe)."),
        new("Model.Stack.Moe.Layer.Experts", "--experts", "MoE: experts per MoE layer."),
        new("Model.Stack.Moe.Layer.TopK", "--top-k", "MoE: experts per token; gate weights are the softmax over the selected logits."),
        new("Model.Stack.Moe.Every", "--moe-every", "MoE: 1 = an MoE layer in every block, 2 = every other block with dense FFNs between, from --first-moe-layer."),
        new("Model.Stack.Moe.FirstMoeLayer", "--first-moe-layer", "MoE: the first block with an MoE layer (0: blocks 0, 2, 4… with --moe-every 2; 1: blocks 1, 3, 5…, the V-MoE layout of the authors' Swin-MoE)."),
        new("Model.Stack.Moe.BalanceWeight", "--balance-weight", "MoE: weight of the Switch load-balancing loss added to the classification loss (summed over MoE layers)."),
        new("Model.Stack.Moe.Layer.CapacityFactor", "--capacity-factor", "MoE: expert capacity as a multiple of the mean load; assignments beyond it are dropped (the token keeps its residual). 0 = unlimited."),
        new("Model.Stack.Moe.Layer.ExpertHidden", "--expert-hidden", "MoE: hidden width of each expert (default: --ffn-multiplier × --d-model / --top-k, so a token's active FFN parameters match the dense model's)."),
        new("Model.Stack.Moe.Layer.SlotsPerExpert", "--slots-per-expert", "Soft MoE: slots per expert (each slot is a weighted average of an image's tokens, processed by its expert)."),
        new("Model.Stack.Moe.Layer.AcMixSlots", "--ac-mix-slots", "AC-Soft MoE: a token's AC feature weights mix the clusters of its top this-many slots in the previous Soft MoE layer, weighted by the softmax of their logits (the authors: 8; 1 = the top slot's cluster only)."),
        new("Model.Stack.Moe.Layer.AcEpsilon", "--ac-epsilon", "AC routers: ε in the feature weights 1/(MAD + ε) (the authors' Soft MoE: 0.35)."),
        new("Model.Stack.Moe.Layer.AcClipMultiple", "--ac-clip-multiple", "AC routers: clip the feature weights at this multiple of their mean, ≥ 1 (the authors' Swin: 1.5, Soft MoE: 5)."),
        new("Model.Stack.Moe.Layer.AcNormalisation", "--ac-normalise", "AC routers: divide the clipped feature weights by their mean per feature (per-feature, the authors' LM code: every feature averages 1 over the clusters) or over every cluster and feature (global, their Swin and Soft MoE code: features along which the clusters are tight overall are amplified for every token)."),
        new("Model.Stack.Moe.AcBaseLayers", "--ac-base-layers", "AC routers: how many of the first MoE layers use the base router (the AC router needs a previous MoE layer's routing)."),
        new("Model.Stack.Moe.Layer.AcScaledInput", "--ac-scaled-input", "AC routers: what the token scaled by its cluster's feature weights feeds: the router and the experts (router-and-experts, the authors' Swin and Soft MoE code: the reference for images) or the router only (router, as in the language models)."),
        new("Model.Stack.Moe.Layer.AcEstimator", "--ac-estimator", "AC routers: where the per-cluster spreads come from: running (statistics of past training batches, frozen at evaluation) or batch (the authors' rule: the current batch's statistics)."),

        new("Train.Steps", "--steps", "Optimizer steps."),
        new("Train.LearningRate", "--lr", "Peak learning rate (AdamW; linear warm-up then cosine decay to --min-lr)."),
        new("Train.MinLearningRate", "--min-lr", "Floor of the cosine decay (default: --lr / 10)."),
        new("Train.WarmupSteps", "--warmup", "Warm-up steps."),
        new("Train.WeightDecay", "--weight-decay", "AdamW weight decay (matrices only)."),
        new("Train.Beta1", "--beta1", "AdamW β₁."),
        new("Train.Beta2", "--beta2", "AdamW β₂."),
        new("Train.GradClip", "--grad-clip", "Max global gradient norm (0: off)."),
        new("Train.EvalEvery", "--eval-every", "Checkpoint (and log a ViT's elliptical metric and expert load to TensorBoard) every N steps (vision runs have no validation split)."),
        new("Train.EarlyStoppingPatience", "--patience", "Early stopping patience (needs a validation loss, which vision runs do not compute: no effect)."),
        new("Train.CheckpointEvery", "--checkpoint-every", "Extra checkpoint every N steps (0: only every --eval-every and at the end)."),
        new("Train.Seed", "--seed", "Seed of initialisation, batch order, augmentation, adversarial starts, dropout and drop-path."),
        new("LabelSmoothing", "--label-smoothing", "Label smoothing of the training cross-entropy."),
        new("Adversarial.Epsilon", "--adv-eps", "Madry PGD adversarial training: L∞ ε in pixel units (e.g. 2/255; 0: off)."),
        new("Adversarial.Steps", "--adv-steps", "Adversarial training: PGD steps per batch."),
        new("Adversarial.StepFraction", "--adv-step-fraction", "Adversarial training: PGD step size as a fraction of --adv-eps."),

        new("Eval.Attack.Attacks", "--attacks", "Comma-separated attacks: fgsm, pgd, pgd-l2, spsa, apgd-ce, apgd-t, square."),
        new("Eval.Attack.Epsilons", "--eps", "Comma-separated ε (fractions allowed: 1/255,2/255); pixel units unless --normalised-eps."),
        new("Eval.Attack.Labels", "--attack-labels", "Attack the true labels (true) or the model's own predictions (prediction, as the authors' scripts do)."),
        new("Eval.Attack.NormalisedEpsilon", "--normalised-eps", "ε in the model's normalised input units, as in the authors' tables (ε_pixel = ε·std per channel; no [0, 1] clip)."),
        new("Eval.Attack.PgdSteps", "--pgd-steps", "PGD iterations."),
        new("Eval.Attack.PgdStepFraction", "--pgd-step-fraction", "PGD step size as a fraction of ε (the authors: 0.15)."),
        new("Eval.Attack.Restarts", "--restarts", "PGD restarts (per example the first successful, else the highest-loss, perturbation is kept)."),
        new("Eval.Attack.RandomStart", "--random-start", "PGD starts at a uniform random point of the ε-ball."),
        new("Eval.Attack.L2RadiusPerEpsilon", "--l2-radius", "PGD-L2: the ball's radius as a multiple of each ε."),
        new("Eval.Attack.SpsaIterations", "--spsa-iterations", "SPSA iterations."),
        new("Eval.Attack.SpsaSamples", "--spsa-samples", "SPSA Rademacher samples per gradient estimate."),
        new("Eval.Attack.SpsaDelta", "--spsa-delta", "SPSA finite-difference step δ."),
        new("Eval.Attack.SpsaLearningRate", "--spsa-lr", "SPSA Adam learning rate."),
        new("Eval.Attack.ApgdIterations", "--apgd-iterations", "APGD iterations."),
        new("Eval.Attack.ApgdTargets", "--apgd-targets", "APGD-T target classes."),
        new("Eval.Attack.SquareQueries", "--square-queries", "Square attack query budget."),
        new("Eval.Attack.SquareInitialFraction", "--square-p0", "Square attack initial window fraction p₀."),
        new("Eval.Attack.WorstCase", "--worst-case", "Also report, per ε, the accuracy under the worst of all attacks (robust only if every attack failed)."),
        new("Eval.Attack.BatchSize", "--attack-batch-size", "Images per attack batch."),
        new("Eval.Attack.MaxImages", ["--attack-images"], "Attack N test images, a class-stratified subset drawn from the seed (0: all).", ZeroMeansNull: true),
        new("Eval.Attack.Seed", "--attack-seed", "Seed of the attacks' random draws (shared by every model)."),
        new("Eval.Corruption.Corruptions", "--corruptions", "Common corruptions on a fixed test subset: none, all, or a comma list (CIFAR-10-C for colour images: gaussian-noise, shot-noise, impulse-noise, defocus-blur, glass-blur, motion-blur, zoom-blur, snow, fog, brightness, contrast, elastic, pixelate, jpeg, speckle-noise, gaussian-blur, spatter, saturate; MNIST-C for grey 28x28 digits, all 15: shot-noise, impulse-noise, glass-blur, motion-blur, shear, scale, rotate, brightness, translate, stripe, fog, spatter, dotted-line, zigzag, canny-edges). Not built: CIFAR-10-C frost (needs the benchmark's frost photographs, which we do not have); docs/vision.md."),
        new("Eval.Corruption.Severities", "--severities", "Severities as a range or list: 1..5, 1,3,5 (default: all of the set's; MNIST-C has one level, 1)."),
        new("Eval.Corruption.MaxImages", ["--corruption-images"], "Corrupt a class-stratified subset of N test images, the same for every model (0: all).", ZeroMeansNull: true),
        new("Eval.Corruption.Seed", "--corruption-seed", "Seed of the corruption subset and of every corruption's draws (one stream per corruption and severity)."),
        new("Eval.Corruption.OodMnistPath", "--ood-mnist", "MNIST IDX folder: also score max-softmax OOD detection (AUROC) of a 3x32x32 model against MNIST test digits padded to 32x32 in 3 channels."),
        new("Eval.Estimator", "--eval-estimator", "Elliptical estimator at evaluation and attack time (default: as trained); the authors attack mean-trained models with the median."),
        new("Eval.DiagnosticImages", "--diagnostic-images", "Test images for the per-layer diagnostics (elliptical metric, representation collapse)."),
        new("Eval.ExampleImages", "--example-images", "Images in the clean vs adversarial grid of a comparison report."),

        new("Output.OutDir", "--out", "Output folder."),
        new("Output.Resume", "--resume", "Continue from the checkpoint in --out (finished runs are reused)."),
        new("Output.Overwrite", "--overwrite", "Replace the run already in --out: its files are deleted first. Without --resume or --overwrite, an --out that holds a run is refused."),
        new("InitFrom", "--init-from", "Fine-tune from this state dict (safetensors or torch.save; e.g. from `statformer export` of a vision run) instead of fresh weights: names and shapes must fit the model."),
    ];

    /// <summary>Properties of <see cref="Vision.Experiments.VisionComparisonOptions"/> besides its run (<c>Run.…</c> paths are <see cref="Vision"/>'s).</summary>
    public static IReadOnlyList<OptionFlag> VisionComparison { get; } =
    [
        new("Seeds", "--seeds", "Number of seeds (0, 1, …, N−1)."),
        new("Variants", ["--variants"], "Comma-separated image classifiers: softmax, elliptical (ViTs), elliptical-median (the elliptical ViT evaluated and attacked with the median estimator, as the authors do), resnet18, or softmax ViTs with MoE feed-forward layers (smoe, xmoe, ac-smoe, ac-xmoe, soft-moe, ac-soft-moe; layout from --experts, --top-k, --moe-every, --slots-per-expert…)."),
        new("Shard", "--shard", "I/N (0 ≤ I < N): run only this machine's share of the variant × seed runs into the shared --out (e.g. a Slurm job array); without --shard, a folder that shards filled is aggregated once every run has finished, and the missing runs are named."),
    ];

    /// <summary>Properties of <see cref="Benchmarks.VisionBenchmarkOptions"/> (`bench vision`).</summary>
    public static IReadOnlyList<OptionFlag> BenchVision { get; } =
    [
        new("Batch", "--batch", "Images per batch."),
        new("ImageSize", "--image-size", "Image side in pixels (3 channels)."),
        new("PatchSize", "--patch-size", "ViT patch side."),
        new("Layers", "--layers", "Transformer blocks (at least 2)."),
        new("DModel", "--d-model", "Model width."),
        new("Heads", "--heads", "Attention heads."),
        new("Repeats", "--repeats", "Timed training steps per measurement (median)."),
        new("Rounds", "--rounds", "Interleaved rounds of the step times (the best median is kept)."),
        new("Pairs", "--pairs", "Back-to-back step pairs behind each paired ratio (median, alternating order)."),
        new("PgdSteps", "--pgd-steps", "PGD steps k."),
        new("SpsaIterations", "--spsa-iterations", "SPSA iterations timed."),
        new("SpsaSamples", "--spsa-samples", "SPSA samples per gradient estimate."),
        new("Experts", "--experts", "Experts per MoE layer of the AC / base router timing (MoE in every block, top-2, Soft MoE with one slot per expert)."),
        new("Seed", "--seed", "Seeds the weights and the images."),
    ];

    /// <summary>Properties of <see cref="Benchmarks.MoeBenchmarkOptions"/> (`bench moe`).</summary>
    public static IReadOnlyList<OptionFlag> BenchMoe { get; } =
    [
        new("Batch", "--batch", "Sequences per batch."),
        new("Seq", "--seq", "Tokens per sequence."),
        new("DModel", "--d-model", "Model width."),
        new("Experts", "--experts", "Experts per MoE layer."),
        new("TopK", "--top-k", "Experts per token."),
        new("ExpertHidden", "--expert-hidden", "Hidden width of each expert."),
        new("Repeats", "--repeats", "Timed steps per measurement (median; best of 3 interleaved rounds)."),
    ];

    /// <summary>
    /// Properties of <see cref="Language.Generation.GenerationOptions"/> (`lm generate`). <c>Prompt</c> and <c>Stop</c> are plain
    /// options of the command (text, repeatable), listed here so that an error about them names their flag.
    /// </summary>
    public static IReadOnlyList<OptionFlag> Generate { get; } =
    [
        new("Prompt", "--prompt", "The text to continue; '-' or none reads it from standard input (one final line break dropped). An empty prompt starts from the start-of-text token (<eos>, <|endoftext|> or a newline)."),
        new("MaxTokens", "--max-tokens", "New tokens per sample (fewer when a --stop string appears)."),
        new("Sampling.Temperature", "--temperature", "Divides the logits before sampling; 0 = greedy (always the most likely token)."),
        new("Sampling.TopK", ["--top-k"], "Sample only from the k most likely tokens (0 = all).", ZeroMeansNull: true),
        new("Sampling.TopP", "--top-p", "Nucleus sampling: only from the smallest set of most likely tokens whose probability reaches p (1 = all)."),
        new("Seed", "--seed", "Seeds the sampler's own generator: the same run, prompt, options and seed give the same text."),
        new("NumSamples", "--num-samples", "Samples drawn one after another from the same seeded sampler."),
        new("Stop", "--stop", "End a sample at the first occurrence of this text, which is cut (repeatable; \\n, \\t and \\\\ are escapes)."),
        new("UseCache", ["--no-cache"], "Decode with a full forward over the window for every token instead of the key/value cache (models that are not causal, --estimator sequence or --ac-estimator batch, always do).", Inverted: true),
    ];

    /// <summary>Properties of <see cref="Benchmarks.GenerationBenchmarkOptions"/> (`bench generate`).</summary>
    public static IReadOnlyList<OptionFlag> BenchGenerate { get; } =
    [
        new("PromptTokens", "--prompt-tokens", "Tokens of the (random) prompt."),
        new("NewTokens", "--new-tokens", "Tokens generated after it (greedy)."),
        new("Layers", "--layers", "Transformer blocks."),
        new("DModel", "--d-model", "Model width."),
        new("Heads", "--heads", "Attention heads."),
        new("Vocab", "--vocab", "Vocabulary size."),
        new("Repeats", "--repeats", "Timed generations per decoder and attention (median)."),
        new("Rounds", "--rounds", "Interleaved rounds over all decoders and attentions (the best median is kept)."),
    ];

    /// <summary>Properties of <see cref="Probes.Elliptical.EllipticalProbeOptions"/> (`probe elliptical`).</summary>
    public static IReadOnlyList<OptionFlag> ProbeElliptical { get; } =
    [
        new("KeyDim", "--key-dim", "D, the key dimension of the kernel-regression sequences."),
        new("Pairs", "--pairs", "(key, value) pairs per sequence (the query is one more token)."),
        new("RelevantCounts", "--relevant", "Comma-separated numbers of relevant key coordinates (f varies along these only); the first is the base of the other sweeps."),
        new("NoiseLevels", "--noise", "Comma-separated value-noise standard deviations; the first is the base, the others are swept at the base."),
        new("Contaminations", "--contamination", "Comma-separated shares of pairs whose irrelevant key coordinates are outliers; the first is the base, the others are swept at the base."),
        new("DModel", "--d-model", "Width of the two-layer stack."),
        new("Heads", "--heads", "Attention heads (must divide --d-model)."),
        new("Steps", "--steps", "Adam steps per model."),
        new("BatchSize", "--batch-size", "Sequences per step."),
        new("LearningRate", "--lr", "Adam learning rate (constant)."),
        new("EvalSequences", "--eval-sequences", "Held-out sequences the MSE is measured on (the same for both attentions)."),
        new("Seeds", "--seeds", "Number of seeds (0, 1, …, N−1); each seeds initialisation, batches and test set."),
        new("OutDir", "--out", "Output folder (probe.json, report.md, plots)."),
    ];

    /// <summary>Properties of <see cref="Probes.AdaptiveClustering.AcProbeOptions"/> (`probe ac`).</summary>
    public static IReadOnlyList<OptionFlag> ProbeAc { get; } =
    [
        new("Clusters", "--clusters", "K, the number of clusters (and of experts per MoE layer)."),
        new("Features", "--features", "F, the token features (the MoE layers work on them directly)."),
        new("SubsetSize", "--subset-size", "Informative features per cluster (the cluster is tight along them)."),
        new("TightSpread", "--tight-spread", "Standard deviation of a cluster along its informative features."),
        new("NoiseLevels", "--noise", "Comma-separated standard deviations of the non-informative features, one setting each."),
        new("Routers", "--routers", "Comma-separated base routers compared with their AC versions: smoe, xmoe."),
        new("TopK", "--top-k", "Experts per token."),
        new("ExpertHidden", "--expert-hidden", "Hidden width of each expert."),
        new("Steps", "--steps", "Adam steps per model."),
        new("BatchSize", "--batch-size", "Tokens per step."),
        new("LearningRate", "--lr", "Adam learning rate (constant)."),
        new("EvalTokens", "--eval-tokens", "Held-out tokens for the task loss and the routing NMI."),
        new("EvalEvery", "--eval-every", "Measure the held-out loss every N steps (the loss-vs-steps curves)."),
        new("Seeds", "--seeds", "Number of seeds (0, 1, …, N−1); each seeds the problem, initialisation and batches."),
        new("OutDir", "--out", "Output folder (probe.json, report.md, plots)."),
    ];

    /// <summary>Properties of <see cref="Probes.Fare.FareProbeOptions"/> (`probe fare`).</summary>
    public static IReadOnlyList<OptionFlag> ProbeFare { get; } =
    [
        new("Classes", "--classes", "Task classes."),
        new("Groups", "--groups", "Sensitive groups (z clusters on the unit circle)."),
        new("Features", "--features", "Input features (the last two carry z)."),
        new("ClassScale", "--class-scale", "Scale of the class sign patterns against unit noise."),
        new("Leak", "--leak", "Scale of z in the input against unit noise."),
        new("Methods", "--methods", "Comma-separated contrastive methods to compare: infonce, fair-infonce, cclk, fare, sparse-fare."),
        new("Hidden", "--hidden", "Encoder hidden width."),
        new("Representation", "--representation", "Representation width (the probes read it)."),
        new("Steps", "--steps", "Adam steps per encoder."),
        new("BatchSize", "--batch-size", "Samples per step (the batch FARE attends over)."),
        new("LearningRate", "--lr", "Adam learning rate (constant)."),
        new("Temperature", "--temperature", "Contrastive temperature τ."),
        new("CorruptionRate", "--corruption", "SCARF corruption rate of the two views."),
        new("TrainSamples", "--train-samples", "Training samples (the probes are fitted on them)."),
        new("TestSamples", "--test-samples", "Test samples."),
        new("Seeds", "--seeds", "Number of seeds (0, 1, …, N−1); each seeds the data, initialisation and batches."),
        new("OutDir", "--out", "Output folder (probe.json, report.md, plot)."),
    ];

    /// <summary>
    /// The flag of the property at <paramref name="path"/> (a run tree path such as <c>Model.Heads</c>, a comparison's
    /// <c>Run.Model.Heads</c> or <c>Seeds</c>, or a fair run's), or null when no flag sets it.
    /// </summary>
    public static string? FlagFor(string path)
    {
        foreach (var table in Tables)
            if (table.FirstOrDefault(f => f.Path == path) is { } flag) return flag.Name;
        return path.StartsWith("Run.", StringComparison.Ordinal) ? FlagFor(path["Run.".Length..]) : null;
    }

    private static IEnumerable<IReadOnlyList<OptionFlag>> Tables => [Lm, Comparison, Fair, FairComparison, Vision, VisionComparison, BenchVision, BenchMoe, Generate, BenchGenerate, ProbeElliptical, ProbeAc, ProbeFare];
}
