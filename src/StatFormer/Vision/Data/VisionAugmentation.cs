using TorchSharp;
using static TorchSharp.torch;
using TF = TorchSharp.torchvision.transforms.functional;

namespace StatFormer.Vision.Data;

/// <summary>
/// Training augmentation of a float batch [B,C,H,W] in [0, 1], every random choice drawn per image from the caller's
/// generator, so a run that restores the generator redraws exactly the same crops, flips and operations.
/// <para>
/// The pixel work is TorchVision for .NET's: <c>functional.pad</c> and <c>functional.crop</c> (it has no RandomCrop),
/// <c>functional.hflip</c>, and its RandAugment. Its random transforms cannot be used as they are: RandomHorizontalFlip
/// and RandAugment draw from torch's global generator, and once per call, so a whole batch would share one flip and one
/// operation sequence. Crop offsets and flips are therefore drawn here, one per image, and only the deterministic
/// functional ops are TorchVision's. RandAugment is run image by image with the global generator seeded from a per-image
/// seed drawn from <paramref name="generator"/>, and the global generator's state put back afterwards, so the caller's
/// other global draws (dropout, initialisation) are unaffected.
/// </para>
/// </summary>
public static class VisionAugmentation
{
    /// <summary>
    /// The augmented batch (a new tensor; <paramref name="images"/> is unchanged). Draws, in this order and only for the
    /// steps that are on: crop offsets int64 [B,2] in [0, 2·padding], flip uniforms [B] (&lt; ½ flips), RandAugment seeds [B].
    /// </summary>
    public static Tensor Apply(Tensor images, ImageAugmentationOptions options, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"expected float images [B,C,H,W], got {images.dtype} [{string.Join(",", images.shape)}]", nameof(images));
        options.Validate();

        using var scope = torch.NewDisposeScope();
        var batch = images.shape[0];
        var (height, width) = ((int)images.shape[2], (int)images.shape[3]);
        var x = images.alias();

        if (options.RandomCropPadding > 0)
        {
            var p = options.RandomCropPadding;
            var offsets = torch.randint(0, 2 * p + 1, new long[] { batch, 2 }, dtype: ScalarType.Int64, generator: generator).data<long>().ToArray();
            var padded = TF.pad(x, new long[] { p, p, p, p });
            var crops = new Tensor[batch];
            for (var i = 0; i < batch; i++)
                crops[i] = TF.crop(padded[i], (int)offsets[2 * i], (int)offsets[2 * i + 1], height, width);
            x = torch.stack(crops);
        }

        if (options.HorizontalFlip)
        {
            var flip = torch.rand(new long[] { batch }, generator: generator).lt(0.5);
            var flipped = flip.nonzero().flatten();
            if (flipped.numel() > 0)
                x = x.index_copy(0, flipped, TF.hflip(x.index_select(0, flipped)));
        }

        if (options.RandAugment is { } rand)
        {
            var seeds = torch.randint(0, long.MaxValue, new long[] { batch }, dtype: ScalarType.Int64, generator: generator).data<long>().ToArray();
            x = RandAugment(x, rand, seeds);
        }

        return x.contiguous().MoveToOuterDisposeScope();
    }

    private static Tensor RandAugment(Tensor x, RandAugmentOptions options, long[] seeds)
    {
        var transform = torchvision.transforms.RandAugment(options.Ops, options.Magnitude, options.MagnitudeBins);
        // TorchVision's ops assume 8-bit pixels (posterize needs uint8; solarize's thresholds run from 255 down), and a
        // batch from ImageDataset holds exact multiples of 1/255, so the round trip through uint8 loses nothing.
        var bytes = x.mul(255).round_().clamp_(0, 255).to_type(ScalarType.Byte);
        // Its colour ops (saturation, contrast) expect RGB; a grey image goes through as three equal channels, which
        // every op keeps equal, and comes back as one.
        var grey = bytes.shape[1] == 1;
        if (grey) bytes = bytes.expand(-1, 3, -1, -1);
        var outputs = new Tensor[seeds.Length];
        var saved = torch.random.get_rng_state();
        try
        {
            for (var i = 0; i < seeds.Length; i++)
            {
                torch.random.manual_seed(seeds[i]);
                var output = transform.call(bytes[i]);
                outputs[i] = grey ? output.narrow(0, 0, 1) : output;
            }
        }
        finally
        {
            torch.random.set_rng_state(saved);
        }
        return torch.stack(outputs).to_type(x.dtype).div_(255);
    }
}
