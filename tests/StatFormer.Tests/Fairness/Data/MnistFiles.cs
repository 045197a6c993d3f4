using StatFormer.Data;

namespace StatFormer.Tests.Fairness.Data;

/// <summary>The real MNIST train split, read once per test run (decompressing 47 MB is the slow part of these tests).</summary>
internal static class MnistFiles
{
    private static readonly Lazy<(IdxImages Images, byte[] Labels)> TrainPair = new(() => IdxReader.ReadPair(
        TestData.Path("mnist", "train-images-idx3-ubyte.gz"), TestData.Path("mnist", "train-labels-idx1-ubyte.gz")));

    public static (IdxImages Images, byte[] Labels) Train => TrainPair.Value;
}
