using StatFormer.Analysis;

namespace StatFormer.Reporting;

/// <summary>Figures of Mixture-of-Experts routing diagnostics (thin layers over <see cref="Plots.Heatmap"/>).</summary>
public static class MoePlots
{
    /// <summary>Expert load per MoE layer: rows = layers (model order), columns = experts, colour = fraction of top-k assignments.</summary>
    public static void ExpertLoadHeatmap(string path, MoeDiagnostics d, string title)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.Layers.Count == 0) throw new ArgumentException("the diagnostics have no layers.", nameof(d));
        int experts = d.Layers[0].Load.Count;
        var values = new double[d.Layers.Count, experts];
        for (int l = 0; l < d.Layers.Count; l++)
        {
            var load = d.Layers[l].Load;
            if (load.Count != experts)
                throw new ArgumentException($"layer {l} has {load.Count} experts, layer 0 has {experts}.", nameof(d));
            for (int e = 0; e < experts; e++) values[l, e] = load[e];
        }
        Plots.Heatmap(path, title, values,
            d.Layers.Select(layer => $"MoE layer {layer.Layer}").ToList(),
            Enumerable.Range(0, experts).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
            "load (fraction of top-k assignments)", xLabel: "expert", yLabel: "MoE layer");
    }

    /// <summary>
    /// Routing vs. topic: rows = experts, columns = topics, each row normalised to sum 1 (the topic mix of the tokens
    /// an expert receives as top-1). Experts that received no labelled token are drawn as empty (NaN) rows.
    /// <paramref name="labels"/> names what the topics are on the axis ("class" for an image model's tokens).
    /// </summary>
    public static void TopicConfusionHeatmap(string path, MoeLayerDiagnostics layer, string title, string labels = "topic")
    {
        ArgumentNullException.ThrowIfNull(layer);
        var confusion = layer.TopicConfusion
            ?? throw new ArgumentException($"MoE layer {layer.Layer} has no topic confusion (no topic labels were given).", nameof(layer));
        if (confusion.Length == 0 || confusion[0].Length == 0)
            throw new ArgumentException($"MoE layer {layer.Layer} has an empty topic confusion table.", nameof(layer));
        int experts = confusion.Length, topics = confusion[0].Length;
        var values = new double[experts, topics];
        for (int e = 0; e < experts; e++)
        {
            if (confusion[e].Length != topics)
                throw new ArgumentException($"topic confusion row {e} has {confusion[e].Length} topics, row 0 has {topics}.", nameof(layer));
            double rowSum = confusion[e].Sum();
            for (int t = 0; t < topics; t++) values[e, t] = rowSum > 0 ? confusion[e][t] / rowSum : double.NaN;
        }
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        Plots.Heatmap(path, title, values,
            Enumerable.Range(0, experts).Select(e => e.ToString(invariant)).ToList(),
            Enumerable.Range(0, topics).Select(t => t.ToString(invariant)).ToList(),
            "fraction of the expert's top-1 tokens", xLabel: labels, yLabel: "expert (top-1)");
    }
}
