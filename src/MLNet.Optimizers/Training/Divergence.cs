using System.Globalization;

namespace MLNet.Optimizers.Training;

/// <summary>The error for a run whose loss or parameters became NaN or infinite, with what usually fixes it.</summary>
internal static class Divergence
{
    /// <summary>"Training diverged in epoch <paramref name="epoch"/>: <paramref name="what"/> became NaN or infinite", and remedies.</summary>
    public static InvalidOperationException In(int epoch, string what, double learningRate) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged in epoch {epoch}: {what} became NaN or infinite. Use a smaller learning rate (the last was {learningRate:G6}), normalise the features (e.g. to mean 0 and variance 1), or clip gradients with GradientClipNorm."));
}
