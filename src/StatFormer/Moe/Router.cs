using static TorchSharp.torch;

namespace StatFormer.Moe;

/// <summary>
/// Scores tokens [N,d] against E experts; the MoE layer picks the top-k of the logits. <c>forward(x [N,d],
/// previous)</c> takes the previous MoE layer's routing, or null (ignored by routers that do not use it).
/// </summary>
public abstract class Router : nn.Module<Tensor, RoutingState?, RouterOutput>
{
    protected Router(string name, int dModel, int experts) : base(name)
    {
        DModel = dModel;
        Experts = experts;
    }

    public int DModel { get; }
    public int Experts { get; }

    /// <summary>True when <see cref="forward"/> needs the previous MoE layer's routing.</summary>
    public virtual bool NeedsPreviousRouting => false;

}
