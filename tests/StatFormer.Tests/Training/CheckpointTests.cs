using StatFormer.Training;
using static StatFormer.Tests.Training.TensorAssert;

namespace StatFormer.Tests.Training;

[Collection(TrainingTestCollection.Name)]
public class CheckpointTests
{
    private const string Metadata = "{\"model\":{\"vocab\":5},\"tokenizer\":\"char\"}";

    private static string TrainedCheckpoint(TempDir dir)
    {
        var corpus = CharCorpus.Repeated("abcd ", 50);
        using var model = TinyLm.Create(corpus.VocabSize, 8);
        new Trainer(model, new TrainOptions { Steps = 3, WarmupSteps = 1, EvalEvery = 0 },
            s => corpus.Batch(s, 2, 8), null, dir.Path, Metadata).Run();
        return dir.File(Trainer.CheckpointFileName);
    }

    [Fact]
    public void RoundTripsMetadataCountersAndWeights()
    {
        using var dir = new TempDir();
        var path = TrainedCheckpoint(dir);

        Assert.Equal(Metadata, Checkpoint.ReadMetadata(path));
        using var model = TinyLm.Create(5, 8, seed: 42);
        var contents = Checkpoint.Load(path, model);
        Assert.Equal(3, contents.Step);
        Assert.Equal(Metadata, contents.MetadataJson);
        Assert.Null(contents.BestValidLoss);
        Assert.NotEmpty(contents.RngState);

        using var reference = TinyLm.Create(5, 8, seed: 43);
        Checkpoint.Load(path, reference);
        var expected = reference.state_dict();
        foreach (var (name, weight) in model.state_dict())
            Assert.True(SameTensor(weight, expected[name]), name);
    }

    [Fact]
    public void TruncatedFileIsRejectedNamingThePath()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TrainedCheckpoint(dir));
        var path = dir.File("truncated.bin");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        AssertCorrupt(path);
    }

    [Fact]
    public void RandomBytesAreRejectedNamingThePath()
    {
        using var dir = new TempDir();
        var path = dir.File("random.bin");
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        AssertCorrupt(path);
    }

    [Fact]
    public void FlippedByteIsCaughtByTheChecksum()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TrainedCheckpoint(dir));
        bytes[bytes.Length / 2] ^= 0x40;
        var path = dir.File("flipped.bin");
        File.WriteAllBytes(path, bytes);

        AssertCorrupt(path);
    }

    [Fact]
    public void CheckpointOfAnotherModelShapeIsRejected()
    {
        using var dir = new TempDir();
        var path = TrainedCheckpoint(dir);
        using var wider = TinyLm.Create(5, 16);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, wider));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingFileIsAUserInputError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.ReadMetadata(dir.File("nope.bin")));
        Assert.Contains(dir.File("nope.bin"), e.Message);
    }

    private static void AssertCorrupt(string path)
    {
        using var model = TinyLm.Create(5, 8);
        foreach (var action in new Action[] { () => Checkpoint.Load(path, model), () => Checkpoint.ReadMetadata(path) })
        {
            var e = Assert.Throws<InvalidDataException>(action);
            Assert.StartsWith($"checkpoint {path} is corrupt or not a StatFormer checkpoint: ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
