using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>Seeded synthetic data sets for the training benchmarks.</summary>
public static class SyntheticData
{
    /// <summary>
    /// Dense binary logistic data: standard-normal features, labels drawn from σ(w·x) for a random w of norm about 2, so the
    /// best accuracy is well below 100 % and the loss has a unique minimum.
    /// </summary>
    public static TrainingData DenseLogistic(int rows, int features, int seed)
    {
        var random = new Random(seed);
        var hidden = new double[features];
        for (int j = 0; j < features; j++)
        {
            hidden[j] = Gaussian(random) * 2 / Math.Sqrt(features);
        }

        var x = new float[(long)rows * features is var n && n <= Array.MaxLength ? (int)n : throw new ArgumentOutOfRangeException(nameof(rows))];
        var labels = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double margin = 0;
            for (int j = 0; j < features; j++)
            {
                float value = (float)Gaussian(random);
                x[r * features + j] = value;
                margin += hidden[j] * value;
            }

            labels[r] = random.NextDouble() < 1 / (1 + Math.Exp(-margin)) ? 1 : 0;
        }

        return TrainingData.Dense(features, x, labels, weights: null);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
