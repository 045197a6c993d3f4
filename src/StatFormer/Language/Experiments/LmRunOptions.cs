using StatFormer.Language.Data;
using StatFormer.Language.Evaluation;
using StatFormer.Language.Models;
using StatFormer.Language.Robustness;
using StatFormer.Options;
using StatFormer.Training;

namespace StatFormer.Language.Experiments;

/// <summary>
/// Everything one language-model run needs, one record per concern: data, model, optimisation,
/// evaluation, attack and output. Each field is declared (with its default) and validated once, in
/// its record; <see cref="Validate"/> reports a bad value as an <see cref="ArgumentException"/> whose
/// ParamName is its path in this tree (e.g. <c>Model.Heads</c>).
/// </summary>
public sealed record LmRunOptions
{
    /// <summary>The corpus, tokenizer and batch size.</summary>
    public LmDataOptions Data { get; init; } = new();

    /// <summary>The model; its <see cref="LmConfig.VocabSize"/> is set from the tokenizer when the run starts.</summary>
    public LmConfig Model { get; init; } = new();

    /// <summary>Where the weights start: fresh, a state dict file or a Hugging Face GPT-2 checkpoint.</summary>
    public LmInitOptions Init { get; init; } = new();

    /// <summary>Optimisation. The LM's learning rate is 1e-3 (the trainer's generic default is 3e-4); the floor is a tenth of it.</summary>
    public TrainOptions Train { get; init; } = new() { LearningRate = 1e-3, MinLearningRate = null };

    /// <summary>The periodic and final evaluation.</summary>
    public LmEvalOptions Eval { get; init; } = new();

    /// <summary>The word-swap attacks on the test text.</summary>
    public WordSwapAttackOptions Attack { get; init; } = new();

    /// <summary>The run folder.</summary>
    public RunOutputOptions Output { get; init; } = new();

    /// <exception cref="ArgumentException">ParamName is the path of the first offending property.</exception>
    public void Validate()
    {
        OptionCheck.Nested(nameof(Data), Data.Validate);
        // The vocabulary is only known once the tokenizer is trained; any valid size stands in for it here.
        OptionCheck.Nested(nameof(Model), (Model.VocabSize == 0 ? Model with { VocabSize = 2 } : Model).Validate);
        // A one-token window scores no prediction; the model alone would accept it.
        OptionCheck.Require(Model.SeqLen >= 2, $"{nameof(Model)}.{nameof(LmConfig.SeqLen)}", $"must be at least 2 (got {Model.SeqLen})");
        OptionCheck.Nested(nameof(Init), Init.Validate);
        OptionCheck.Require(Init.HfCheckpoint is null || Data.Tokenizer == "gpt2", $"{nameof(Data)}.{nameof(LmDataOptions.Tokenizer)}",
            $"a GPT-2 checkpoint needs the GPT-2 tokenizer 'gpt2' (got '{Data.Tokenizer}')");
        OptionCheck.Nested(nameof(Train), Train.Validate);
        OptionCheck.Nested(nameof(Eval), () => Eval.Validate(Model.SeqLen));
        OptionCheck.Nested(nameof(Attack), Attack.Validate);
        OptionCheck.Nested(nameof(Output), Output.Validate);
    }
}
