using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>The kind of label a synthetic data set carries.</summary>
public enum LabelKind
{
    Binary,
    Multiclass,
    Regression,
}

/// <summary>
/// Seeded synthetic data for objective and training tests, kept both as plain arrays (for the double-precision references
/// written in the tests) and as dense and sparse <see cref="TrainingData"/> holding the same values.
/// </summary>
internal sealed class SyntheticData
{
    private SyntheticData(int rowCount, int featureCount, float[] features, float[] labels, float[]? weights)
    {
        RowCount = rowCount;
        FeatureCount = featureCount;
        Features = features;
        Labels = labels;
        Weights = weights;
    }

    public int RowCount { get; }

    public int FeatureCount { get; }

    /// <summary>Row-major, with exact zeros where the sparse form stores nothing.</summary>
    public float[] Features { get; }

    public float[] Labels { get; }

    public float[]? Weights { get; }

    public double WeightOf(int row) => Weights?[row] ?? 1.0;

    public float Feature(int row, int feature) => Features[(row * FeatureCount) + feature];

    /// <summary>
    /// Features ~ N(0, 1), each zeroed with probability <paramref name="zeroFraction"/>; labels from a fixed "true" model
    /// (weights 1, −1, 0.5, … with noise); example weights in [0.25, 2) when <paramref name="weighted"/>, a few of them 0.
    /// </summary>
    public static SyntheticData Create(LabelKind kind, int rowCount, int featureCount, int seed, bool weighted = false,
        double zeroFraction = 0.3, int classCount = 3, int informativeFeatures = int.MaxValue)
    {
        var random = new Random(seed);
        var features = new float[rowCount * featureCount];
        for (int i = 0; i < features.Length; i++)
        {
            double value = Gaussian(random);
            features[i] = random.NextDouble() < zeroFraction ? 0f : (float)value;
        }

        int outputs = kind == LabelKind.Multiclass ? classCount : 1;
        var trueWeights = new double[outputs, featureCount];
        for (int k = 0; k < outputs; k++)
        {
            for (int j = 0; j < Math.Min(featureCount, informativeFeatures); j++)
            {
                trueWeights[k, j] = ((j + k) % 3 - 1) * (1 + (0.5 * j / featureCount)) + (k == j % outputs ? 1 : 0);
            }
        }

        var labels = new float[rowCount];
        var scores = new double[outputs];
        for (int row = 0; row < rowCount; row++)
        {
            for (int k = 0; k < outputs; k++)
            {
                scores[k] = 0.3 * Gaussian(random);
                for (int j = 0; j < featureCount; j++)
                {
                    scores[k] += trueWeights[k, j] * features[(row * featureCount) + j];
                }
            }

            labels[row] = kind switch
            {
                LabelKind.Binary => scores[0] > 0.2 ? 1f : 0f,
                LabelKind.Multiclass => Array.IndexOf(scores, scores.Max()),
                _ => (float)(scores[0] + 0.5),
            };
        }

        float[]? weights = null;
        if (weighted)
        {
            weights = new float[rowCount];
            for (int row = 0; row < rowCount; row++)
            {
                weights[row] = row % 17 == 5 ? 0f : (float)(0.25 + (1.75 * random.NextDouble()));
            }
        }

        return new SyntheticData(rowCount, featureCount, features, labels, weights);
    }

    public TrainingData Dense() => TrainingData.Dense(FeatureCount, (float[])Features.Clone(), (float[])Labels.Clone(), (float[]?)Weights?.Clone());

    /// <summary>The same values in CSR form, storing only the non-zeros.</summary>
    public TrainingData Sparse()
    {
        var offsets = new int[RowCount + 1];
        var indices = new List<int>();
        var values = new List<float>();
        for (int row = 0; row < RowCount; row++)
        {
            for (int j = 0; j < FeatureCount; j++)
            {
                float value = Feature(row, j);
                if (value != 0)
                {
                    indices.Add(j);
                    values.Add(value);
                }
            }

            offsets[row + 1] = indices.Count;
        }

        return TrainingData.Sparse(FeatureCount, offsets, [.. indices], [.. values], (float[])Labels.Clone(), (float[]?)Weights?.Clone());
    }

    /// <summary>Seeded values ~ N(0, σ²) for parameter vectors.</summary>
    public static float[] RandomVector(int length, int seed, double scale)
    {
        var random = new Random(seed);
        var vector = new float[length];
        for (int i = 0; i < length; i++)
        {
            vector[i] = (float)(scale * Gaussian(random));
        }

        return vector;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
