using StatFormer.Language.Data;
using StatFormer.Language.Models;
using TorchSharp;

namespace StatFormer.Language.Generation;

/// <summary>The prompt as the model sees it.</summary>
/// <param name="Ids">The last <see cref="LmConfig.SeqLen"/> tokens of the encoded prompt (a start-of-text token for an empty one).</param>
/// <param name="DroppedTokens">Leading tokens cut because the prompt was longer than the model's context.</param>
public sealed record PromptTokens(int[] Ids, int DroppedTokens);

/// <summary>One generated token.</summary>
/// <param name="Piece">The token decoded on its own (a byte-level BPE piece of a multi-byte character decodes to U+FFFD).</param>
/// <param name="Text">The text this token adds to the output stream: the new suffix of the decoded sequence, less what may still change
/// (an incomplete character, the beginning of a stop string), which comes with a later token.</param>
/// <param name="LogProb">See <see cref="SampledToken.LogProb"/>: under the distribution actually sampled from.</param>
/// <param name="ModelLogProb">See <see cref="SampledToken.ModelLogProb"/>: under the model's unfiltered softmax.</param>
/// <param name="CompletesStop">This token completed a stop string; it is the last one.</param>
public sealed record GeneratedToken(int Id, string Piece, string Text, double LogProb, double ModelLogProb, bool CompletesStop = false);

/// <summary>One sample.</summary>
/// <param name="Text">The generated continuation (after the prompt), cut before a stop string.</param>
/// <param name="Tokens">Every drawn token, the one that completed a stop string included.</param>
/// <param name="FinishReason">"length" (max tokens reached) or "stop" (a stop string appeared).</param>
/// <param name="Decoder">How the model was run (<see cref="ITokenDecoder.Name"/>).</param>
public sealed record GeneratedSample(string Text, IReadOnlyList<GeneratedToken> Tokens, string FinishReason, string Decoder);

/// <summary>
/// Generates text from a trained language model one token at a time: the prompt's last <see cref="LmConfig.SeqLen"/> tokens
/// start the sequence, each new token is drawn by a seeded <see cref="TokenSampler"/> from the logits of the current window (the
/// last SeqLen tokens: beyond the context the window slides by one token), and the decoded text is streamed as it becomes final.
/// </summary>
public sealed class TextGenerator
{
    public TextGenerator(TransformerLm model, ITokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
    }

    public TransformerLm Model { get; }
    public ITokenizer Tokenizer { get; }

    /// <summary>
    /// Encodes <paramref name="prompt"/> and keeps its last <see cref="LmConfig.SeqLen"/> tokens. A word-level prompt that does not end
    /// with a newline continues its last line (the tokenizer would close it with &lt;eos&gt;); an empty prompt starts from the
    /// start-of-text token (&lt;eos&gt;, GPT-2's &lt;|endoftext|&gt;, or a newline character).
    /// </summary>
    /// <exception cref="ArgumentException">An empty prompt with a char vocabulary that has no newline; ParamName "Prompt".</exception>
    public PromptTokens EncodePrompt(string prompt)
    {
        var ids = Tokenizer.Encode(prompt);
        if (Tokenizer is WordTokenizer word && !prompt.EndsWith('\n') && ids is [.., var last] && last == word.EosId) ids = ids[..^1];
        if (ids.Length == 0) ids = [StartOfText()];
        var dropped = Math.Max(0, ids.Length - Model.Config.SeqLen);
        return new PromptTokens(ids[dropped..], dropped);
    }

    private int StartOfText() => Tokenizer switch
    {
        WordTokenizer word => word.EosId,
        Gpt2Tokenizer gpt2 => gpt2.VocabSize - 1,   // <|endoftext|>
        CharTokenizer chars when chars.Chars.Contains('\n') => chars.Encode("\n")[0],
        _ => throw new ArgumentException("the prompt is empty and the vocabulary has no start-of-text token; give at least one character", "Prompt"),
    };

    /// <summary>The decoder <paramref name="options"/> ask for: the key/value cache where the model supports it, else a full forward per token.</summary>
    public ITokenDecoder CreateDecoder(GenerationOptions options) => CreateDecoder(Model, options.UseCache && CachedDecoder.Supports(Model) ? CachedDecoder.DecoderName : FullWindowDecoder.DecoderName);

    /// <summary>The decoders <paramref name="model"/> can run with, the full-window one first.</summary>
    public static IReadOnlyList<string> DecoderNames(TransformerLm model) =>
        CachedDecoder.Supports(model) ? [FullWindowDecoder.DecoderName, CachedDecoder.DecoderName] : [FullWindowDecoder.DecoderName];

    /// <summary>A decoder by <see cref="ITokenDecoder.Name"/>.</summary>
    public static ITokenDecoder CreateDecoder(TransformerLm model, string name) => name switch
    {
        FullWindowDecoder.DecoderName => new FullWindowDecoder(model),
        CachedDecoder.DecoderName => new CachedDecoder(model),
        _ => throw new ArgumentException($"unknown decoder '{name}' (known for this model: {string.Join(", ", DecoderNames(model))})", nameof(name)),
    };

    /// <summary>
    /// Draws one sample, yielding each token as it is produced (its <see cref="GeneratedToken.Text"/> is what to print). The
    /// enumeration ends after <see cref="GenerationOptions.MaxTokens"/> tokens or at a stop string.
    /// </summary>
    public IEnumerable<GeneratedToken> Stream(PromptTokens prompt, GenerationOptions options, TokenSampler sampler, ITokenDecoder decoder)
    {
        var promptText = Tokenizer.Decode(prompt.Ids);
        var sequence = new List<int>(prompt.Ids);
        var printed = "";
        var wasTraining = Model.training;
        Model.eval();
        try
        {
            for (var step = 0; step < options.MaxTokens; step++)
            {
                GeneratedToken token;
                bool stopped;
                using (var scope = torch.NewDisposeScope())
                {
                    var logits = step == 0 ? decoder.Start(prompt.Ids) : decoder.Append(sequence[^1]);
                    var drawn = sampler.Sample(logits);
                    sequence.Add(drawn.Id);
                    var continuation = Continuation(sequence, prompt.Ids.Length, promptText);
                    var stopAt = FirstStop(continuation, options.Stop);
                    stopped = stopAt >= 0;
                    var final = stopped || step == options.MaxTokens - 1;
                    var printable = stopped ? continuation[..stopAt] : final ? continuation : continuation[..^HeldBack(continuation, options.Stop)];
                    // Text already printed cannot be taken back; a decoded prefix never changes once held-back text is excluded.
                    var text = printable.StartsWith(printed, StringComparison.Ordinal) ? printable[printed.Length..] : "";
                    if (text.Length > 0) printed = printable;
                    token = new GeneratedToken(drawn.Id, Tokenizer.Decode([drawn.Id]), text, drawn.LogProb, drawn.ModelLogProb, stopped);
                }
                yield return token;
                if (stopped) yield break;
            }
        }
        finally
        {
            Model.train(wasTraining);
        }
    }

    /// <summary>
    /// <see cref="GenerationOptions.NumSamples"/> samples of <paramref name="prompt"/>, one after another from one sampler seeded with
    /// <see cref="GenerationOptions.Seed"/>; <paramref name="onToken"/> (sample index, token) sees every token as it is produced.
    /// </summary>
    public IReadOnlyList<GeneratedSample> Generate(string prompt, GenerationOptions options, Action<int, GeneratedToken>? onToken = null)
    {
        options.Validate();
        var tokens = EncodePrompt(prompt);
        using var sampler = new TokenSampler(options.Sampling, options.Seed);
        var samples = new List<GeneratedSample>();
        for (var i = 0; i < options.NumSamples; i++)
        {
            using var decoder = CreateDecoder(options);
            var drawn = new List<GeneratedToken>();
            foreach (var token in Stream(tokens, options, sampler, decoder))
            {
                drawn.Add(token);
                onToken?.Invoke(i, token);
            }
            var text = string.Concat(drawn.Select(t => t.Text));
            samples.Add(new GeneratedSample(text, drawn, drawn[^1].CompletesStop ? "stop" : "length", decoder.Name));
        }
        return samples;
    }

    /// <summary>The decoded text after the prompt: the whole sequence is decoded (so byte pieces join into characters) and the prompt's text removed.</summary>
    private string Continuation(IReadOnlyList<int> sequence, int promptLength, string promptText)
    {
        var full = Tokenizer.Decode(sequence);
        return full.StartsWith(promptText, StringComparison.Ordinal) ? full[promptText.Length..] : Tokenizer.Decode(sequence.Skip(promptLength).ToList());
    }

    private static int FirstStop(string text, IReadOnlyList<string> stops)
    {
        var first = -1;
        foreach (var stop in stops)
            if (text.IndexOf(stop, StringComparison.Ordinal) is var at and >= 0 && (first < 0 || at < first)) first = at;
        return first;
    }

    /// <summary>Trailing characters that may still change: U+FFFD of an incomplete multi-byte character, or the beginning of a stop string.</summary>
    private static int HeldBack(string text, IReadOnlyList<string> stops)
    {
        var incomplete = text.Length - text.TrimEnd('\uFFFD').Length;
        var stopPrefix = 0;
        foreach (var stop in stops)
            for (var length = Math.Min(stop.Length - 1, text.Length); length > stopPrefix; length--)
                if (text.EndsWith(stop[..length], StringComparison.Ordinal))
                {
                    stopPrefix = length;
                    break;
                }
        return Math.Max(incomplete, stopPrefix);
    }
}

/// <summary><see cref="TextGenerator"/> as a method of the model.</summary>
public static class TransformerLmGeneration
{
    /// <inheritdoc cref="TextGenerator.Generate"/>
    public static IReadOnlyList<GeneratedSample> Generate(this TransformerLm model, ITokenizer tokenizer, string prompt, GenerationOptions options,
        Action<int, GeneratedToken>? onToken = null) => new TextGenerator(model, tokenizer).Generate(prompt, options, onToken);
}
