using StatFormer.Options;

namespace StatFormer.Moe;

/// <summary>
/// Where a Transformer stack puts Mixture-of-Experts layers and how it trains them: the router, the
/// layout (every block, or every other block from a first MoE block), the balance-loss weight, the AC base
/// layers, and the options of each MoE layer.
/// </summary>
public sealed record MoeLayout
{
    /// <summary>None keeps dense feed-forward layers; otherwise the router the MoE layers use.</summary>
    public MoeKind Router { get; init; } = MoeKind.None;

    /// <summary>1: an MoE layer in every block (Switch layout); 2: in every other block with dense FFNs between them (GLaM layout from block 0, V-MoE from block 1).</summary>
    public int Every { get; init; } = 1;

    /// <summary>
    /// The first block with an MoE layer; the next ones follow every <see cref="Every"/> blocks. 0: blocks 0, 2, 4… (GLaM,
    /// the language models); 1 with Every = 2: blocks 1, 3, 5… (V-MoE's odd blocks, the authors' Swin-MoE stage 3).
    /// </summary>
    public int FirstMoeLayer { get; init; }

    /// <summary>Weight of the Switch load-balancing loss, summed over MoE layers and added to the training loss.</summary>
    public double BalanceWeight { get; init; } = 0.01;

    /// <summary>How many of the first MoE layers use the base router: the AC router needs a previous MoE layer's routing (the authors use 2).</summary>
    public int AcBaseLayers { get; init; } = 1;

    /// <summary>The options every MoE layer is built with (expert width and dropout resolved by the stack).</summary>
    public MoeOptions Layer { get; init; } = new();

    /// <summary>The blocks, of a stack of <paramref name="layers"/>, whose feed-forward layer is an MoE layer.</summary>
    public IReadOnlyList<int> LayersOf(int layers) =>
        Router == MoeKind.None ? Array.Empty<int>() : Enumerable.Range(0, layers).Where(l => l >= FirstMoeLayer && (l - FirstMoeLayer) % Every == 0).ToArray();

    /// <summary>The router kind of each MoE layer, in order: AC kinds fall back to their base router on the first <see cref="AcBaseLayers"/> MoE layers.</summary>
    public IReadOnlyList<MoeKind> KindsOf(int layers) =>
        LayersOf(layers).Select((_, i) => MoeKindNames.IsAdaptive(Router) && i < AcBaseLayers ? MoeKindNames.BaseOf(Router) : Router).ToArray();

    /// <summary>Throws <see cref="ArgumentException"/> whose ParamName is the property path; <paramref name="layers"/> is the stack's depth.</summary>
    public void Validate(int layers)
    {
        if (Router == MoeKind.None) return;
        OptionCheck.Require(Every is 1 or 2, nameof(Every), $"Every must be 1 (Switch: every block) or 2 (GLaM: every other block) (got {Every})");
        OptionCheck.Require(FirstMoeLayer >= 0 && FirstMoeLayer < layers, nameof(FirstMoeLayer),
            $"FirstMoeLayer must name a block of the stack, 0..{layers - 1} (got {FirstMoeLayer})");
        OptionCheck.Require(BalanceWeight >= 0 && double.IsFinite(BalanceWeight), nameof(BalanceWeight), $"BalanceWeight must be a finite number ≥ 0 (got {BalanceWeight})");
        OptionCheck.Nested(nameof(Layer), Layer.Validate);
        if (MoeKindNames.IsAdaptive(Router))
        {
            var moeLayers = LayersOf(layers).Count;
            OptionCheck.Require(AcBaseLayers >= 1, nameof(AcBaseLayers),
                $"AcBaseLayers must be at least 1 (got {AcBaseLayers}): the first MoE layer has no previous MoE layer whose routing the AC router could cluster on");
            OptionCheck.Require(AcBaseLayers < moeLayers, nameof(AcBaseLayers),
                $"Router {EnumNames.Cli(Router)}: the stack has {moeLayers} MoE layer(s) and the first {AcBaseLayers} use the base router (AcBaseLayers), so no layer would use the AC router; add Layers or lower AcBaseLayers");
        }
    }
}
