using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StatFormer.Training;

/// <summary>
/// A run's curves as TensorBoard event files (TorchSharp's <c>SummaryWriter</c>), written into the run folder itself
/// so that <c>tensorboard --logdir runs/</c> lists every run under its folder name. Each training session (a resumed
/// run is a second session) starts a new events.out.tfevents.* file; before a resumed session the older files are cut
/// back to the checkpoint's step (<see cref="TensorBoardRecords.TruncateAfter"/>), so the curves continue without
/// repeated steps, and a fresh start deletes them.
/// </summary>
public sealed class TensorBoardLog
{
    /// <summary>The prefix of the event files TorchSharp writes (<c>events.out.tfevents.TICKS.HOST.PID.N</c>).</summary>
    public const string EventFilePrefix = "events.out.tfevents.";

    private readonly SummaryWriter _writer;

    public TensorBoardLog(string folder)
    {
        _writer = torch.utils.tensorboard.SummaryWriter(folder);
    }

    public string Folder => _writer.LogDir;

    /// <summary>One value of the curve <paramref name="tag"/> (e.g. <c>train/loss</c>) at <paramref name="step"/>.</summary>
    public void Scalar(string tag, double value, long step) => _writer.add_scalar(tag, (float)value, checked((int)step));

    /// <summary>The distribution of <paramref name="values"/> (any shape) at <paramref name="step"/>, shown in TensorBoard's histogram and distribution tabs.</summary>
    public void Histogram(string tag, Tensor values, long step)
    {
        using var scope = torch.NewDisposeScope();
        _writer.add_histogram(tag, values.detach().cpu().to(ScalarType.Float64).flatten(), checked((int)step));
    }
}

/// <summary>
/// Per-domain extras for the TensorBoard log (elliptical metrics, expert load, …), written by the <see cref="Trainer"/>
/// after each validation so that the trainer itself stays domain-free.
/// </summary>
public interface ITrainingDiagnostics
{
    /// <summary>Called after each validation with the model in evaluation mode, without gradient, inside a dispose scope; must not draw from the torch generator (a resumed run would diverge).</summary>
    void Write(long step, TensorBoardLog log);
}
